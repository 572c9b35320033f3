// Fuzzes the JWK parser and JWE decryption with a fixed P-256 key: no crash, no leak.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/keys.h"
#include "evidence/jose.h"
#include "evidence/json_util.h"
#include "fuzz/evidence_fuzz_key.h"

using namespace cvm::evidence;  // NOLINT(google-build-using-namespace)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const TeeKeyPair* key = [] {
    auto pem = cvm::PrivateKeyFromPem(kFuzzP256Pem);
    if (!pem.ok()) std::abort();
    auto pair = TeeKeyPair::FromPrivateKey(std::move(pem).value());
    if (!pair.ok()) std::abort();
    return new TeeKeyPair(std::move(pair).value());
  }();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)key->Decrypt(text);
  if (auto json = ParseJsonText(text, "fuzz"); json.ok()) {
    if (auto jwk = ParseTeePublicJwk(*json); jwk.ok()) {
      // A key that parses must be usable for encryption, and its JWK is kept verbatim.
      if (!EncryptJwe(*jwk, cvm::AsBytes("x")).ok() || jwk->jwk != *json) std::abort();
    }
  }
  return 0;
}
