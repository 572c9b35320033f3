// Fixed EC keys for the RFC and Trustee test vectors.
#pragma once

#include <string_view>

#include "common/ossl.h"

namespace cvm::testing {

// An EC private key on `group` ("prime256v1", "secp521r1") from its scalar (big-endian hex);
// the public point is computed. Aborts the test on failure.
ossl::PKey EcPrivateKey(const char* group, std::string_view d_hex);
// The same from a base64url JWK "d".
ossl::PKey EcPrivateKeyB64(const char* group, std::string_view d_b64url);

}  // namespace cvm::testing
