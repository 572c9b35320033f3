// Signature creation and verification through OpenSSL EVP.
//
// Verification returns OK when the signature holds, kRejected when it does not (including a
// malformed signature value), and kInvalidInput when the key cannot be used with the scheme.
#pragma once

#include <string_view>

#include "common/bytes.h"
#include "common/digest.h"
#include "common/ossl.h"

namespace cvm {

// ECDSA over `data` hashed with `alg`; `der_sig` is the DER SEQUENCE { r, s }.
Status VerifyEcdsaDer(const EVP_PKEY* key, DigestAlg alg, ByteSpan data, ByteSpan der_sig);
// ECDSA with r and s given as unsigned big-endian integers (any length, leading zeros allowed).
Status VerifyEcdsaRaw(const EVP_PKEY* key, DigestAlg alg, ByteSpan data, ByteSpan r, ByteSpan s);
// RSASSA-PSS with MGF1 using the same digest; `salt_len` in bytes (-1: the digest length).
Status VerifyRsaPss(const EVP_PKEY* key, DigestAlg alg, ByteSpan data, ByteSpan sig,
                    int salt_len = -1);
// RSASSA-PKCS1-v1_5.
Status VerifyRsaPkcs1(const EVP_PKEY* key, DigestAlg alg, ByteSpan data, ByteSpan sig);

Result<Bytes> SignEcdsaDer(const EVP_PKEY* key, DigestAlg alg, ByteSpan data);
Result<Bytes> SignRsaPss(const EVP_PKEY* key, DigestAlg alg, ByteSpan data, int salt_len = -1);
Result<Bytes> SignRsaPkcs1(const EVP_PKEY* key, DigestAlg alg, ByteSpan data);

// Converts between DER ECDSA signatures and fixed-width big-endian r||s (each `width` bytes).
Result<Bytes> EcdsaDerToRaw(ByteSpan der_sig, size_t width);
Result<Bytes> EcdsaRawToDer(ByteSpan r, ByteSpan s);

}  // namespace cvm
