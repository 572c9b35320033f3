// Fuzzes the LUKS2 header checks (luks/header.h) over host-controlled metadata JSON: the input is
// the metadata; the token names keyslots 0 and 1 and the header UUID matches it, so every check
// runs. A header that passes must contain no null cipher.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "luks/header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cvm::luks;  // NOLINT(google-build-using-namespace)
  static const Token token = [] {
    Token t;
    t.keyslots = {0, 1};
    t.resource = "disk";
    t.uuid = "0b8e4a1c-1d2e-4f60-8a9b-0c1d2e3f4a5b";
    return t;
  }();
  std::string_view meta(reinterpret_cast<const char*>(data), size);
  for (const HeaderPolicy& policy : {HeaderPolicy{}, HeaderPolicy{{"aes-xts-plain64"}}}) {
    auto facts = CheckHeader(meta, token.uuid, token, policy);
    if (!facts.ok()) continue;
    for (const auto& c : facts->ciphers) {
      if (IsNullCipher(c)) std::abort();
    }
  }
  (void)CheckHeaderKeyslots(meta, "0B8E4A1C-1D2E-4F60-8A9B-0C1D2E3F4A5B", {}, HeaderPolicy{});
  return 0;
}
