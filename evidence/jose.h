// JOSE for the relying-party exchange: the TEE's ephemeral key as a JWK, resources encrypted to it
// as flattened-JSON JWE, and the relying party's ES256 attestation token (JWT).
//
// Wire facts (../shared/reference/kbs-protocol.md sections a, d, e; RFC 7515-7518):
// - TEE public key JWK carries exactly Trustee's members: EC {"kty","crv","alg","x","y"} with
//   crv P-256 (default) or P-521, alg "ECDH-ES+A256KW", x/y big-endian left-padded to 32/66
//   bytes; RSA {"kty","alg","n","e"} with alg "RSA-OAEP-256", 2048 bits. base64url without
//   padding everywhere. Parsing refuses any other member (a JWK with extra members is refused,
//   not ignored) and coordinates of the wrong length.
// - JWE: flattened JSON {"protected","encrypted_key","iv","ciphertext","tag"}, no "aad"; content
//   A256GCM with a 12-byte IV and AAD = ASCII of the *received* protected string; key management
//   ECDH-ES+A256KW (Concat KDF SHA-256, empty apu/apv, SuppPubInfo 256) or RSA-OAEP-256. The
//   protected header is emitted compact with "alg","enc" first and the rest in sorted order.
// - JWT: compact JWS ES256 with header {"typ":"JWT","alg":"ES256","jwk":{P-256 public key}}.
//
// Implemented in jose.cc only, with OpenSSL primitives (ECDH, Concat KDF, AES key wrap and GCM,
// RSA-OAEP, ECDSA) and latchset's José (libjose) to verify tokens and, in the tests, to decrypt
// our JWEs independently. No crypto is written by hand.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/file_util.h"
#include "common/ossl.h"
#include "common/status.h"

namespace cvm::evidence {

enum class TeeKeyType { kEcP256, kEcP521, kRsa2048 };

// A TEE key pair for one exchange. Move-only; the private key is freed (and its memory
// cleansed by OpenSSL) when the owner goes away.
class TeeKeyPair {
 public:
  static Result<TeeKeyPair> Generate(TeeKeyType type = TeeKeyType::kEcP256);
  // Adopts an existing private key (EC P-256/P-521 or RSA-2048), e.g. a fixed test key.
  // kInvalidInput for any other key.
  static Result<TeeKeyPair> FromPrivateKey(ossl::PKey key);
  // The public key as the Trustee JWK (exact members, see above).
  nlohmann::json PublicJwk() const;
  // Decrypts a flattened-JSON JWE addressed to this key. kRejected for a JWE that does not
  // decrypt or authenticate (tampered, wrong key, wrong curve); kInvalidInput when malformed.
  // The plaintext is a secret: it comes back in SecretBytes.
  Result<SecretBytes> Decrypt(std::string_view jwe_json) const;
  TeeKeyType type() const { return type_; }
  const EVP_PKEY* key() const { return key_.get(); }

 private:
  TeeKeyPair(TeeKeyType type, ossl::PKey key) : type_(type), key_(std::move(key)) {}
  TeeKeyType type_;
  ossl::PKey key_;
};

// A parsed TEE public key (what the relying party receives in runtime-data.tee-pubkey).
struct TeePublicKey {
  TeeKeyType type = TeeKeyType::kEcP256;
  ossl::PKey key;
  nlohmann::json jwk;  // exactly the members parsed, as received (used for the binding hash)
};
// kInvalidInput naming the problem: unknown kty/crv/alg, extra or missing members, padded
// base64url, coordinates of the wrong length, a point not on the curve.
Result<TeePublicKey> ParseTeePublicJwk(const nlohmann::json& jwk);

// Encrypts `plaintext` to `recipient` as a flattened-JSON JWE (serialized compact).
Result<std::string> EncryptJwe(const TeePublicKey& recipient, ByteSpan plaintext);

// ES256 token signing key of a relying party (P-256), from PEM (SEC1 or PKCS#8); an empty
// `pem` generates a new key (Trustee's ephemeral signer). kInvalidInput for another key type.
Result<ossl::PKey> LoadTokenSigningKey(std::string_view pem);
// The public P-256 key as a JWK {"crv","kty","x","y"} (the JWT header's "jwk").
Result<nlohmann::json> EcPublicJwk(const EVP_PKEY* key);
// A compact JWT: header {"typ":"JWT","alg":"ES256","jwk":<public key>}, the given claims.
Result<std::string> SignJwt(const EVP_PKEY* key, const nlohmann::json& claims);

// SignJwt for many tokens with one key: the protected header is encoded once. Thread-safe.
class Es256Signer {
 public:
  // kInvalidInput unless `key` is an EC P-256 private key.
  static Result<Es256Signer> Create(ossl::PKey key);
  // The same token as SignJwt(key(), claims) (ECDSA signatures are randomised, so not the same
  // bytes). kInvalidInput when the claims are not an object or hold text that is not UTF-8.
  Result<std::string> Sign(const nlohmann::json& claims) const;
  const EVP_PKEY* key() const { return key_.get(); }

 private:
  Es256Signer(ossl::PKey key, std::string header_b64)
      : key_(std::move(key)), header_b64_(std::move(header_b64)) {}
  ossl::PKey key_;
  std::string header_b64_;
};

struct Jwt {
  nlohmann::json header;
  nlohmann::json claims;
};
// Splits and decodes a compact JWT without verifying it (what a client does to read "exp").
// kInvalidInput when malformed.
Result<Jwt> DecodeJwt(std::string_view token);
// Decodes and verifies an ES256 JWT with `key` (the configured relying-party token key; the
// "jwk" in the header is never trusted), then checks "exp" and "nbf" against `now`.
// kRejected for a bad signature or an expired/not-yet-valid token.
Result<Jwt> VerifyJwt(std::string_view token, const EVP_PKEY* key, TimePoint now);

}  // namespace cvm::evidence
