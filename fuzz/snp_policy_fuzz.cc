// Fuzzes the SNP YAML policy parser.
#include <cstdint>
#include <string_view>

#include "snp/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)cvm::snp::ParsePolicy(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
