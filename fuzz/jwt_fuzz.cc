// Fuzzes JWT decoding and ES256 verification with a fixed key: no crash, and nothing verifies
// (the fuzzer does not know the private key).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/keys.h"
#include "evidence/jose.h"
#include "fuzz/evidence_fuzz_key.h"

using namespace cvm::evidence;  // NOLINT(google-build-using-namespace)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const EVP_PKEY* key = [] {
    auto k = LoadTokenSigningKey(kFuzzP256Pem);
    if (!k.ok()) std::abort();
    return k->release();
  }();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)DecodeJwt(text);
  if (VerifyJwt(text, key, cvm::TimePoint()).ok()) std::abort();
  return 0;
}
