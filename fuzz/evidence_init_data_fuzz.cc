// Fuzzes the init-data TOML reader: any input gets a result or a clear error, and an accepted
// document's digest is its algorithm's size.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "evidence/init_data.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = cvm::evidence::ParseInitData(text);
  if (parsed.ok() && parsed->digest.size() != cvm::DigestSize(parsed->algorithm)) std::abort();
  return 0;
}
