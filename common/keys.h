// Public and private keys: loading, generating, exporting. Keys are EVP_PKEY owners.
#pragma once

#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/file_util.h"
#include "common/ossl.h"

namespace cvm {

enum class Curve { kP256, kP384 };

// Field size in bytes: 32 for P-256, 48 for P-384.
size_t CurveFieldSize(Curve curve);

Result<ossl::PKey> GenerateEcKey(Curve curve);
Result<ossl::PKey> GenerateRsaKey(int bits);

// PEM "PUBLIC KEY" (SubjectPublicKeyInfo) or DER SubjectPublicKeyInfo.
Result<ossl::PKey> PublicKeyFromPem(std::string_view pem);
Result<ossl::PKey> PublicKeyFromDer(ByteSpan der);
// PKCS#8 or traditional PEM private key.
Result<ossl::PKey> PrivateKeyFromPem(std::string_view pem);
Result<std::string> PublicKeyToPem(const EVP_PKEY* key);
Result<Bytes> PublicKeyToDer(const EVP_PKEY* key);
// PKCS#8, unencrypted, in SecretBytes: the text is copied once, from OpenSSL's secure heap
// (which OpenSSL wipes) into a buffer of its final size, and wiped when the result is destroyed.
Result<SecretBytes> PrivateKeyToPem(const EVP_PKEY* key);

// An EC public key from its big-endian affine coordinates (each CurveFieldSize bytes).
Result<ossl::PKey> EcPublicKeyFromXY(Curve curve, ByteSpan x, ByteSpan y);
// The uncompressed point X||Y of an EC public key, each coordinate CurveFieldSize bytes.
Result<Bytes> EcPublicKeyXY(const EVP_PKEY* key);
// The curve of an EC key; kInvalidInput for other keys or curves.
Result<Curve> EcKeyCurve(const EVP_PKEY* key);
// An RSA public key from its big-endian modulus and exponent.
Result<ossl::PKey> RsaPublicKeyFromNE(ByteSpan n, ByteSpan e);
// The big-endian modulus and public exponent of an RSA key.
Result<std::pair<Bytes, Bytes>> RsaPublicKeyNE(const EVP_PKEY* key);

// The base type (EVP_PKEY_EC, EVP_PKEY_RSA...) of a key.
int KeyType(const EVP_PKEY* key);

}  // namespace cvm
