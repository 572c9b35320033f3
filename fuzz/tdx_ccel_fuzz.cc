// Fuzzes the ACPI CCEL table parser and the CCEL log replay.
#include <cstdint>

#include "tdx/ccel.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cvm::ByteSpan in(data, size);
  (void)cvm::tdx::ParseCcelTable(in);
  (void)cvm::tdx::ReplayCcel(in);
  return 0;
}
