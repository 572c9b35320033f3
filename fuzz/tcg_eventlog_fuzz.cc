// Fuzzes the TCG event log parser and replay in both modes.
#include <cstdint>

#include "common/tcg_eventlog.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto log = cvm::tcg::ParseEventLog(cvm::ByteSpan(data, size));
  if (log.ok()) {
    (void)cvm::tcg::Replay(*log, cvm::tcg::ReplayMode::kTpm);
    (void)cvm::tcg::Replay(*log, cvm::tcg::ReplayMode::kCcel);
  }
  return 0;
}
