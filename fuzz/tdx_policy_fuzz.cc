// Fuzzes the TDX policy (YAML) parser.
#include <cstdint>
#include <string_view>

#include "tdx/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)cvm::tdx::ParsePolicy(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
