// Building blocks of jose.cc, exposed for the RFC test vectors and the cross-check against
// José's own JWE code. Not part of the library's contract.
#pragma once

#include <string_view>

#include "common/bytes.h"
#include "common/file_util.h"
#include "evidence/jose.h"

namespace cvm::evidence::internal {

// The Concat KDF of RFC 7518 section 4.6.2 (NIST SP 800-56A/C single-step KDF with SHA-256)
// through OpenSSL's "SSKDF": OtherInfo = len32(alg) || alg || len32(apu) || apu || len32(apv)
// || apv || be32(8 * key_bytes).
Result<SecretBytes> ConcatKdfSha256(ByteSpan z, std::string_view algorithm_id, ByteSpan apu,
                                    ByteSpan apv, size_t key_bytes);
// RFC 3394 AES key wrap (key size from kek: 16, 24 or 32 bytes), OpenSSL's AES-*-WRAP.
Result<Bytes> AesKeyWrap(ByteSpan kek, ByteSpan key);
// kRejected when the integrity check fails.
Result<SecretBytes> AesKeyUnwrap(ByteSpan kek, ByteSpan wrapped);

// Decrypts a JWE with José's own code path (jose_jwe_dec), independently of TeeKeyPair::Decrypt.
// EC keys only (José 11 has no RSA-OAEP-256). For tests.
Result<SecretBytes> JoseLibraryDecrypt(const TeeKeyPair& key, std::string_view jwe_json);

}  // namespace cvm::evidence::internal
