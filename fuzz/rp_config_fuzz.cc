// Fuzzes the cvm-rp configuration parser. Inline `file:` resources name paths; the fuzzer's
// inputs may name real files, which are only read (bounded), never written.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rp/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)cvm::rp::ParseConfig(text, "/nonexistent/fuzz.yaml");
  return 0;
}
