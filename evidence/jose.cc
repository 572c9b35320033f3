// JOSE for the KBS exchange. The only file that includes José (<jose/...>).
//
// Which library does what, and why:
// - JWE (both directions) uses OpenSSL primitives: ECDH (EVP_PKEY_derive), the SP 800-56C
//   single-step KDF ("SSKDF", SHA-256) as RFC 7518's Concat KDF, AES-256 key wrap and
//   AES-256-GCM, RSA-OAEP with SHA-256. José 11 cannot produce Trustee's wire format: its
//   ECDH-ES sealer puts "epk" in the per-recipient *unprotected* header (lib/openssl/ecdhes.c
//   seal()), while Trustee's client reads it from the protected header, and José 11 has no
//   RSA-OAEP-256. Its decryption path does agree with Trustee (AlgorithmID = alg, empty apu/apv,
//   AAD = the received protected string): internal::JoseLibraryDecrypt uses it to cross-check
//   ours in the tests.
// - JWS: the ES256 token is signed with OpenSSL (EVP_DigestSign, the DER signature converted to
//   JOSE's r||s) and verified with José (jose_jws_ver), so the tests check one against the other.
//   José's jose_jws_sig rebuilt the key from its JWK (a new EC group) on every token.
//
// EC keys are built from a per-curve parameter template (EVP_PKEY_dup of a key holding only the
// group, then the point): OpenSSL 3.0 builds a new EC group from its name for every key made
// with EVP_PKEY_fromdata or EVP_PKEY_Q_keygen, which costs more than the ECDH that follows.
#include "evidence/jose.h"

// José's headers declare C functions without extern "C".
extern "C" {
#include <jose/jose.h>
#include <jose/openssl.h>
}
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <cstdlib>

#include "common/digest.h"
#include "common/encoding.h"
#include "common/keys.h"
#include "common/signature.h"
#include "evidence/jose_internal.h"
#include "evidence/json_util.h"

namespace cvm::evidence {
namespace {

using nlohmann::json;

constexpr std::string_view kEcdhAlg = "ECDH-ES+A256KW";
constexpr std::string_view kRsaAlg = "RSA-OAEP-256";
constexpr std::string_view kEnc = "A256GCM";
constexpr size_t kCekSize = 32;
constexpr size_t kIvSize = 12;
constexpr size_t kTagSize = 16;

struct CurveInfo {
  std::string_view jwk_name;  // "P-256"
  const char* ossl_group;     // OpenSSL group name
  size_t field;               // coordinate bytes
};
constexpr CurveInfo kP256{"P-256", "prime256v1", 32};
constexpr CurveInfo kP521{"P-521", "secp521r1", 66};

const CurveInfo* CurveOf(TeeKeyType type) {
  if (type == TeeKeyType::kEcP256) return &kP256;
  if (type == TeeKeyType::kEcP521) return &kP521;
  return nullptr;
}

// A key holding only the curve's group, to duplicate: built once per process and curve, never
// modified, so concurrent EVP_PKEY_dup and keygen from it are safe. nullptr if OpenSSL failed.
const EVP_PKEY* CurveTemplate(const CurveInfo& curve) {
  auto make = [](const char* group) -> EVP_PKEY* {
    ossl::PKeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    EVP_PKEY* params = nullptr;
    if (!ctx || EVP_PKEY_paramgen_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_group_name(ctx.get(), group) != 1 ||
        EVP_PKEY_paramgen(ctx.get(), &params) != 1) {
      ossl::ClearErrors();
      return nullptr;
    }
    return params;
  };
  // Process-lifetime objects (never freed, as OpenSSL's own fetched algorithms).
  static const EVP_PKEY* const p256 = make(kP256.ossl_group);
  static const EVP_PKEY* const p521 = make(kP521.ossl_group);
  return &curve == &kP256 ? p256 : p521;
}

// Algorithms fetched once per process (an implicit fetch on every use costs a lookup under a
// lock); nullptr if OpenSSL does not provide them.
const EVP_CIPHER* FetchedCipher(const char* name) {
  return EVP_CIPHER_fetch(nullptr, name, nullptr);
}
const EVP_CIPHER* Aes256Gcm() {
  static const EVP_CIPHER* const cipher = FetchedCipher("AES-256-GCM");
  return cipher;
}
EVP_KDF* SsKdf() {
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "SSKDF", nullptr);
  return kdf;
}

// José's and jansson's objects.
struct JsonDecref {
  void operator()(json_t* j) const { json_decref(j); }
};
using JanssonPtr = std::unique_ptr<json_t, JsonDecref>;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, ossl::Deleter<EVP_CIPHER_CTX_free>>;
using KdfCtx = std::unique_ptr<EVP_KDF_CTX, ossl::Deleter<EVP_KDF_CTX_free>>;

// base64url without padding (RFC 7515 section 2); padding is refused, as Trustee's
// URL_SAFE_NO_PAD decoder does.
Result<Bytes> DecodeB64Url(std::string_view text, std::string_view what) {
  if (text.find('=') != std::string_view::npos) {
    return InvalidInput(std::string(what) + ": padded base64url (JOSE uses no padding)");
  }
  auto decoded = Base64UrlDecode(text);
  if (!decoded.ok()) return decoded.status().WithContext(what);
  return std::move(decoded).value();
}

Result<Bytes> RandomBytes(size_t n) {
  Bytes out(n);
  if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) return ossl::Error("RAND_bytes");
  return out;
}

Result<ossl::PKey> GenerateEc(const CurveInfo& curve) {
  const EVP_PKEY* params = CurveTemplate(curve);
  if (params == nullptr) return ossl::Error("EC curve parameters");
  ossl::PKeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, const_cast<EVP_PKEY*>(params), nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_generate(ctx.get(), &raw) != 1) {
    return ossl::Error("EC key generation");
  }
  return ossl::PKey(raw);
}

Result<ossl::PKey> EcKeyFromXY(const CurveInfo& curve, ByteSpan x, ByteSpan y) {
  Bytes point;
  point.reserve(1 + x.size() + y.size());
  point.push_back(0x04);  // SEC 1 uncompressed point
  point.insert(point.end(), x.begin(), x.end());
  point.insert(point.end(), y.begin(), y.end());
  const EVP_PKEY* params = CurveTemplate(curve);
  if (params == nullptr) return ossl::Error("EC curve parameters");
  ossl::PKey key(EVP_PKEY_dup(const_cast<EVP_PKEY*>(params)));
  if (!key) return ossl::Error("EC key");
  // Decoding the point fails for one that is not on the curve.
  if (EVP_PKEY_set1_encoded_public_key(key.get(), point.data(), point.size()) != 1) {
    return ossl::Error("EC point is not on the curve", Code::kInvalidInput);
  }
  // On the curve and not the point at infinity. The full check would also multiply the point by
  // the group order, which cannot fail on P-256 and P-521 (cofactor 1: every curve point is in
  // the prime-order group) and costs as much as the ECDH itself (common/keys.cc does the same).
  ossl::PKeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check_quick(check.get()) != 1) {
    return ossl::Error("EC point is not a valid public key", Code::kInvalidInput);
  }
  return key;
}

// The key's curve; nullptr for a key on another curve or not EC.
const CurveInfo* EcCurveOfKey(const EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return nullptr;
  char name[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), &len) !=
      1) {
    ossl::ClearErrors();
    return nullptr;
  }
  std::string_view group(name, len);
  if (group == kP256.ossl_group) return &kP256;
  if (group == kP521.ossl_group) return &kP521;
  return nullptr;
}

Result<std::pair<Bytes, Bytes>> EcXY(const EVP_PKEY* key, const CurveInfo& curve) {
  // The uncompressed point 04||X||Y in one call (OpenSSL's default point format), each
  // coordinate already left-padded to the field size.
  uint8_t point[1 + 2 * 66];
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point), &len) !=
          1 ||
      len != 1 + 2 * curve.field || point[0] != 0x04) {
    return ossl::Error("EC public point");
  }
  const uint8_t* x = point + 1;
  const uint8_t* y = x + curve.field;
  return std::make_pair(Bytes(x, y), Bytes(y, y + curve.field));
}

json EcJwkMembers(const CurveInfo& curve, ByteSpan x, ByteSpan y) {
  return json{
      {"kty", "EC"}, {"crv", curve.jwk_name}, {"x", Base64UrlEncode(x)}, {"y", Base64UrlEncode(y)}};
}

Result<SecretBytes> EcdhSharedSecret(const EVP_PKEY* own, const EVP_PKEY* peer) {
  // The peer's point is on the curve and not at infinity (EcKeyFromXY checked it already; this
  // costs a few microseconds and holds for a key from anywhere). validate_peer 0 below:
  // EVP_PKEY_derive_set_peer would add the full check, a multiplication by the group order that
  // cannot fail on these cofactor-1 curves and cost twice the ECDH itself.
  ossl::PKeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, const_cast<EVP_PKEY*>(peer), nullptr));
  if (!check || EVP_PKEY_public_check_quick(check.get()) != 1) {
    return ossl::Error("ECDH: the peer's point is not on the curve", Code::kRejected);
  }
  ossl::PKeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, const_cast<EVP_PKEY*>(own), nullptr));
  size_t len = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer_ex(ctx.get(), const_cast<EVP_PKEY*>(peer), 0) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1) {
    return ossl::Error("ECDH", Code::kRejected);
  }
  Bytes z(len);
  if (EVP_PKEY_derive(ctx.get(), z.data(), &len) != 1) {
    OPENSSL_cleanse(z.data(), z.size());
    return ossl::Error("ECDH", Code::kRejected);
  }
  z.resize(len);
  return SecretBytes(std::move(z));
}

// The KEK of ECDH-ES+A256KW: Concat KDF over Z with AlgorithmID = the "alg" value and empty
// PartyUInfo / PartyVInfo, as Trustee (jwe/mod.rs:25-47) and RFC 7518 section 4.6.2.
Result<SecretBytes> DeriveKek(const EVP_PKEY* own, const EVP_PKEY* peer) {
  CVM_ASSIGN_OR_RETURN(SecretBytes z, EcdhSharedSecret(own, peer));
  return internal::ConcatKdfSha256(z.view(), kEcdhAlg, {}, {}, 32);
}

struct GcmOutput {
  Bytes ciphertext;
  Bytes tag;
};

Result<GcmOutput> AesGcmEncrypt(ByteSpan key, ByteSpan iv, ByteSpan aad, ByteSpan plaintext) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  GcmOutput out;
  out.ciphertext.resize(plaintext.size() + 16);
  out.tag.resize(kTagSize);
  int len = 0;
  int total = 0;
  if (!ctx || Aes256Gcm() == nullptr ||
      EVP_EncryptInit_ex(ctx.get(), Aes256Gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()),
                          nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), iv.data()) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out.ciphertext.data(), &len, plaintext.data(),
                        static_cast<int>(plaintext.size())) != 1) {
    return ossl::Error("AES-256-GCM encryption");
  }
  total = len;
  if (EVP_EncryptFinal_ex(ctx.get(), out.ciphertext.data() + total, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, out.tag.data()) != 1) {
    return ossl::Error("AES-256-GCM encryption");
  }
  out.ciphertext.resize(static_cast<size_t>(total + len));
  return out;
}

Result<SecretBytes> AesGcmDecrypt(ByteSpan key, ByteSpan iv, ByteSpan aad, ByteSpan ciphertext,
                                  ByteSpan tag) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  Bytes plain(ciphertext.size() + 16);
  int len = 0;
  if (!ctx || Aes256Gcm() == nullptr ||
      EVP_DecryptInit_ex(ctx.get(), Aes256Gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()),
                          nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), iv.data()) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), plain.data(), &len, ciphertext.data(),
                        static_cast<int>(ciphertext.size())) != 1) {
    OPENSSL_cleanse(plain.data(), plain.size());
    return ossl::Error("AES-256-GCM decryption");
  }
  int total = len;
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag.size()),
                          const_cast<uint8_t*>(tag.data())) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), plain.data() + total, &len) != 1) {
    OPENSSL_cleanse(plain.data(), plain.size());
    ossl::ClearErrors();
    return Rejected("JWE: content authentication failed (tampered or wrong key)");
  }
  plain.resize(static_cast<size_t>(total + len));
  return SecretBytes(std::move(plain));
}

Result<Bytes> RsaOaepEncrypt(const EVP_PKEY* key, ByteSpan data) {
  ossl::PKeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, const_cast<EVP_PKEY*>(key), nullptr));
  size_t len = 0;
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_encrypt(ctx.get(), nullptr, &len, data.data(), data.size()) != 1) {
    return ossl::Error("RSA-OAEP-256 encryption");
  }
  Bytes out(len);
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &len, data.data(), data.size()) != 1) {
    return ossl::Error("RSA-OAEP-256 encryption");
  }
  out.resize(len);
  return out;
}

Result<SecretBytes> RsaOaepDecrypt(const EVP_PKEY* key, ByteSpan data) {
  ossl::PKeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, const_cast<EVP_PKEY*>(key), nullptr));
  size_t len = 0;
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_decrypt(ctx.get(), nullptr, &len, data.data(), data.size()) != 1) {
    return ossl::Error("RSA-OAEP-256 decryption");
  }
  Bytes out(len);
  if (EVP_PKEY_decrypt(ctx.get(), out.data(), &len, data.data(), data.size()) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    ossl::ClearErrors();
    return Rejected("JWE: RSA-OAEP-256 key unwrap failed (tampered or wrong key)");
  }
  out.resize(len);
  return SecretBytes(std::move(out));
}

// Checks that `obj` has exactly the members in `allowed` (each required).
Status ExactMembers(const json& obj, std::initializer_list<std::string_view> allowed,
                    std::string_view what) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool known = false;
    for (std::string_view name : allowed) known = known || it.key() == name;
    if (!known) {
      return InvalidInput(std::string(what) + ": unexpected member \"" + it.key() + "\"");
    }
  }
  for (std::string_view name : allowed) {
    if (!obj.contains(std::string(name))) {
      return InvalidInput(std::string(what) + ": missing member \"" + std::string(name) + "\"");
    }
  }
  return Status::Ok();
}

Result<Bytes> Coordinate(const json& jwk, std::string_view member, const CurveInfo& curve,
                         std::string_view what) {
  CVM_ASSIGN_OR_RETURN(std::string text, RequiredString(jwk, member, what));
  std::string label = std::string(what) + " " + std::string(member);
  CVM_ASSIGN_OR_RETURN(Bytes value, DecodeB64Url(text, label));
  if (value.size() != curve.field) {
    return InvalidInput(label + ": " + std::to_string(value.size()) + " bytes, " +
                        std::string(curve.jwk_name) + " needs " + std::to_string(curve.field));
  }
  return value;
}

const CurveInfo* CurveByJwkName(std::string_view name) {
  if (name == kP256.jwk_name) return &kP256;
  if (name == kP521.jwk_name) return &kP521;
  return nullptr;
}

struct JwtParts {
  std::string_view header, payload, signature;
};

Result<JwtParts> SplitJwt(std::string_view token) {
  size_t a = token.find('.');
  size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos) {
    return InvalidInput("JWT: expected three dot-separated parts");
  }
  return JwtParts{token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1)};
}

Result<json> DecodeJsonPart(std::string_view part, std::string_view what) {
  CVM_ASSIGN_OR_RETURN(Bytes raw, DecodeB64Url(part, what));
  CVM_ASSIGN_OR_RETURN(json value, ParseJsonText(AsChars(raw), what));
  if (!value.is_object()) return InvalidInput(std::string(what) + ": not a JSON object");
  return value;
}

Status CheckP256(const EVP_PKEY* key, std::string_view what) {
  if (key == nullptr || EcCurveOfKey(key) != &kP256) {
    return InvalidInput(std::string(what) + ": ES256 needs an EC P-256 key");
  }
  return Status::Ok();
}

Result<int64_t> NumericDate(const json& claims, const char* name) {
  const json& v = claims.at(name);
  if (!v.is_number_integer()) {
    return InvalidInput(std::string("JWT: claim \"") + name + "\" is not an integer");
  }
  return v.get<int64_t>();
}

}  // namespace

namespace internal {

Result<SecretBytes> ConcatKdfSha256(ByteSpan z, std::string_view algorithm_id, ByteSpan apu,
                                    ByteSpan apv, size_t key_bytes) {
  Bytes info;
  auto put32 = [&](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) info.push_back(static_cast<uint8_t>(v >> shift));
  };
  auto put = [&](ByteSpan data) {
    put32(static_cast<uint32_t>(data.size()));
    info.insert(info.end(), data.begin(), data.end());
  };
  put(AsBytes(algorithm_id));
  put(apu);
  put(apv);
  put32(static_cast<uint32_t>(key_bytes * 8));  // SuppPubInfo: keydatalen in bits

  if (SsKdf() == nullptr) return ossl::Error("SSKDF");
  KdfCtx ctx(EVP_KDF_CTX_new(SsKdf()));
  if (!ctx) return ossl::Error("SSKDF");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(z.data()),
                                        z.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size()),
      OSSL_PARAM_construct_end()};
  Bytes out(key_bytes);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    return ossl::Error("SSKDF derive");
  }
  return SecretBytes(std::move(out));
}

namespace {
const EVP_CIPHER* WrapCipher(size_t kek_size) {
  switch (kek_size) {
    case 16:
      return EVP_aes_128_wrap();
    case 24:
      return EVP_aes_192_wrap();
    case 32:
      return EVP_aes_256_wrap();
    default:
      return nullptr;
  }
}
}  // namespace

Result<Bytes> AesKeyWrap(ByteSpan kek, ByteSpan key) {
  const EVP_CIPHER* cipher = WrapCipher(kek.size());
  if (cipher == nullptr) return InvalidInput("AES key wrap: KEK must be 16, 24 or 32 bytes");
  if (key.size() < 16 || key.size() % 8 != 0) {
    return InvalidInput("AES key wrap: key must be a multiple of 8 bytes, at least 16");
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return ossl::Error("AES key wrap");
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  Bytes out(key.size() + 8);
  int len = 0;
  int fin = 0;
  if (EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, kek.data(), nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out.data(), &len, key.data(), static_cast<int>(key.size())) !=
          1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + len, &fin) != 1) {
    return ossl::Error("AES key wrap");
  }
  out.resize(static_cast<size_t>(len + fin));
  return out;
}

Result<SecretBytes> AesKeyUnwrap(ByteSpan kek, ByteSpan wrapped) {
  const EVP_CIPHER* cipher = WrapCipher(kek.size());
  if (cipher == nullptr) return InvalidInput("AES key unwrap: KEK must be 16, 24 or 32 bytes");
  if (wrapped.size() < 24 || wrapped.size() % 8 != 0) {
    return InvalidInput("AES key unwrap: wrapped key must be a multiple of 8 bytes, at least 24");
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return ossl::Error("AES key unwrap");
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  Bytes out(wrapped.size());
  int len = 0;
  int fin = 0;
  if (EVP_DecryptInit_ex(ctx.get(), cipher, nullptr, kek.data(), nullptr) != 1 ||
      EVP_DecryptUpdate(ctx.get(), out.data(), &len, wrapped.data(),
                        static_cast<int>(wrapped.size())) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &fin) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    ossl::ClearErrors();
    return Rejected("JWE: AES key unwrap failed (tampered or wrong key)");
  }
  out.resize(static_cast<size_t>(len + fin));
  return SecretBytes(std::move(out));
}

Result<SecretBytes> JoseLibraryDecrypt(const TeeKeyPair& key, std::string_view jwe_json) {
  if (CurveOf(key.type()) == nullptr) return Unsupported("José 11 has no RSA-OAEP-256");
  JanssonPtr jwk(jose_openssl_jwk_from_EVP_PKEY(nullptr, const_cast<EVP_PKEY*>(key.key())));
  if (!jwk) return Internal("José: cannot export the key");
  // José picks the algorithm from the JWK or the header; the JWK must allow unwrapping.
  json_object_set_new(jwk.get(), "alg", json_string(std::string(kEcdhAlg).c_str()));
  json_error_t error;
  JanssonPtr jwe(json_loadb(jwe_json.data(), jwe_json.size(), 0, &error));
  if (!jwe) return InvalidInput(std::string("José: ") + error.text);
  size_t len = 0;
  void* plain = jose_jwe_dec(nullptr, jwe.get(), nullptr, jwk.get(), &len);
  if (plain == nullptr) return Rejected("José: jose_jwe_dec failed");
  Bytes out(static_cast<uint8_t*>(plain), static_cast<uint8_t*>(plain) + len);
  OPENSSL_cleanse(plain, len);
  free(plain);  // NOLINT(cppcoreguidelines-no-malloc): José allocates with malloc
  return SecretBytes(std::move(out));
}

}  // namespace internal

Result<TeeKeyPair> TeeKeyPair::Generate(TeeKeyType type) {
  if (const CurveInfo* curve = CurveOf(type)) {
    CVM_ASSIGN_OR_RETURN(ossl::PKey key, GenerateEc(*curve));
    return TeeKeyPair(type, std::move(key));
  }
  CVM_ASSIGN_OR_RETURN(ossl::PKey key, GenerateRsaKey(2048));
  return TeeKeyPair(type, std::move(key));
}

Result<TeeKeyPair> TeeKeyPair::FromPrivateKey(ossl::PKey key) {
  if (!key) return InvalidInput("TEE key: no key");
  if (const CurveInfo* curve = EcCurveOfKey(key.get())) {
    return TeeKeyPair(curve == &kP256 ? TeeKeyType::kEcP256 : TeeKeyType::kEcP521, std::move(key));
  }
  if (EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_RSA && EVP_PKEY_get_bits(key.get()) == 2048) {
    return TeeKeyPair(TeeKeyType::kRsa2048, std::move(key));
  }
  return InvalidInput("TEE key: must be EC P-256, EC P-521 or RSA-2048");
}

json TeeKeyPair::PublicJwk() const {
  if (const CurveInfo* curve = CurveOf(type_)) {
    auto xy = EcXY(key_.get(), *curve);
    if (!xy.ok()) return json();  // cannot happen for a key this class generated or checked
    json jwk = EcJwkMembers(*curve, xy->first, xy->second);
    jwk["alg"] = kEcdhAlg;
    return jwk;
  }
  auto ne = RsaPublicKeyNE(key_.get());
  if (!ne.ok()) return json();
  return json{{"kty", "RSA"},
              {"alg", kRsaAlg},
              {"n", Base64UrlEncode(ne->first)},
              {"e", Base64UrlEncode(ne->second)}};
}

Result<SecretBytes> TeeKeyPair::Decrypt(std::string_view jwe_json) const {
  CVM_ASSIGN_OR_RETURN(json jwe, ParseJsonText(jwe_json, "JWE"));
  if (!jwe.is_object()) return InvalidInput("JWE: not a JSON object");
  // Flattened JSON as Trustee sends it (kbs-types Response); "aad" is accepted only as null
  // (absent in Trustee's output), since the AAD must be exactly the protected string.
  if (auto aad = jwe.find("aad"); aad != jwe.end()) {
    if (!aad->is_null()) return InvalidInput("JWE: an \"aad\" member is not supported");
    jwe.erase("aad");
  }
  CVM_RETURN_IF_ERROR(
      ExactMembers(jwe, {"protected", "encrypted_key", "iv", "ciphertext", "tag"}, "JWE"));
  CVM_ASSIGN_OR_RETURN(std::string protected_b64, RequiredString(jwe, "protected", "JWE"));
  CVM_ASSIGN_OR_RETURN(std::string ek_text, RequiredString(jwe, "encrypted_key", "JWE"));
  CVM_ASSIGN_OR_RETURN(std::string iv_text, RequiredString(jwe, "iv", "JWE"));
  CVM_ASSIGN_OR_RETURN(std::string ct_text, RequiredString(jwe, "ciphertext", "JWE"));
  CVM_ASSIGN_OR_RETURN(std::string tag_text, RequiredString(jwe, "tag", "JWE"));
  CVM_ASSIGN_OR_RETURN(json header, DecodeJsonPart(protected_b64, "JWE protected header"));
  CVM_ASSIGN_OR_RETURN(Bytes encrypted_key, DecodeB64Url(ek_text, "JWE encrypted_key"));
  CVM_ASSIGN_OR_RETURN(Bytes iv, DecodeB64Url(iv_text, "JWE iv"));
  CVM_ASSIGN_OR_RETURN(Bytes ciphertext, DecodeB64Url(ct_text, "JWE ciphertext"));
  CVM_ASSIGN_OR_RETURN(Bytes tag, DecodeB64Url(tag_text, "JWE tag"));
  if (iv.size() != kIvSize) return InvalidInput("JWE: iv must be 12 bytes");
  if (tag.size() != kTagSize) return InvalidInput("JWE: tag must be 16 bytes");

  constexpr std::string_view kHdr = "JWE protected header";
  CVM_ASSIGN_OR_RETURN(std::string alg, RequiredString(header, "alg", kHdr));
  CVM_ASSIGN_OR_RETURN(std::string enc, RequiredString(header, "enc", kHdr));
  if (enc != kEnc) return InvalidInput("JWE: content encryption \"" + enc + "\" is not A256GCM");
  for (const char* refused : {"zip", "crit"}) {
    if (header.contains(refused)) {
      return InvalidInput(std::string("JWE: header member \"") + refused + "\" is not supported");
    }
  }

  SecretBytes cek;
  if (const CurveInfo* curve = CurveOf(type_)) {
    if (alg != kEcdhAlg) {
      return Rejected("JWE: alg \"" + alg + "\" does not match the EC key (ECDH-ES+A256KW)");
    }
    CVM_ASSIGN_OR_RETURN(json epk, RequiredMember(header, "epk", kHdr));
    constexpr std::string_view kEpk = "JWE epk";
    if (!epk.is_object()) return InvalidInput("JWE: epk is not an object");
    CVM_ASSIGN_OR_RETURN(std::string kty, RequiredString(epk, "kty", kEpk));
    CVM_ASSIGN_OR_RETURN(std::string crv, RequiredString(epk, "crv", kEpk));
    if (kty != "EC") return InvalidInput("JWE: epk kty \"" + kty + "\" is not EC");
    if (crv != curve->jwk_name) {
      return Rejected("JWE: epk curve \"" + crv + "\" differs from the key's " +
                      std::string(curve->jwk_name));
    }
    CVM_ASSIGN_OR_RETURN(Bytes x, Coordinate(epk, "x", *curve, kEpk));
    CVM_ASSIGN_OR_RETURN(Bytes y, Coordinate(epk, "y", *curve, kEpk));
    auto peer = EcKeyFromXY(*curve, x, y);
    if (!peer.ok()) return peer.status().WithContext("JWE epk");
    CVM_ASSIGN_OR_RETURN(SecretBytes kek, DeriveKek(key_.get(), peer->get()));
    if (encrypted_key.size() != kCekSize + 8) {
      return InvalidInput("JWE: encrypted_key must be 40 bytes for A256KW");
    }
    CVM_ASSIGN_OR_RETURN(cek, internal::AesKeyUnwrap(kek.view(), encrypted_key));
  } else {
    if (alg != kRsaAlg) {
      return Rejected("JWE: alg \"" + alg + "\" does not match the RSA key (RSA-OAEP-256)");
    }
    CVM_ASSIGN_OR_RETURN(cek, RsaOaepDecrypt(key_.get(), encrypted_key));
  }
  if (cek.size() != kCekSize) return Rejected("JWE: content key is not 32 bytes");
  // AAD = ASCII of the protected header exactly as received (RFC 7516 section 5.2 step 14).
  return AesGcmDecrypt(cek.view(), iv, AsBytes(protected_b64), ciphertext, tag);
}

Result<TeePublicKey> ParseTeePublicJwk(const json& jwk) {
  constexpr std::string_view kWhat = "tee-pubkey";
  if (!jwk.is_object()) return InvalidInput("tee-pubkey: not a JSON object");
  CVM_ASSIGN_OR_RETURN(std::string kty, RequiredString(jwk, "kty", kWhat));
  TeePublicKey out;
  out.jwk = jwk;
  if (kty == "EC") {
    CVM_RETURN_IF_ERROR(ExactMembers(jwk, {"kty", "crv", "alg", "x", "y"}, kWhat));
    CVM_ASSIGN_OR_RETURN(std::string crv, RequiredString(jwk, "crv", kWhat));
    CVM_ASSIGN_OR_RETURN(std::string alg, RequiredString(jwk, "alg", kWhat));
    const CurveInfo* curve = CurveByJwkName(crv);
    if (curve == nullptr) return InvalidInput("tee-pubkey: curve \"" + crv + "\" not supported");
    if (alg != kEcdhAlg) {
      return InvalidInput("tee-pubkey: alg \"" + alg + "\" is not ECDH-ES+A256KW");
    }
    CVM_ASSIGN_OR_RETURN(Bytes x, Coordinate(jwk, "x", *curve, kWhat));
    CVM_ASSIGN_OR_RETURN(Bytes y, Coordinate(jwk, "y", *curve, kWhat));
    auto key = EcKeyFromXY(*curve, x, y);
    if (!key.ok()) return key.status().WithContext(kWhat);
    out.type = curve == &kP256 ? TeeKeyType::kEcP256 : TeeKeyType::kEcP521;
    out.key = std::move(key).value();
    return out;
  }
  if (kty == "RSA") {
    CVM_RETURN_IF_ERROR(ExactMembers(jwk, {"kty", "alg", "n", "e"}, kWhat));
    CVM_ASSIGN_OR_RETURN(std::string alg, RequiredString(jwk, "alg", kWhat));
    if (alg != kRsaAlg) return InvalidInput("tee-pubkey: alg \"" + alg + "\" is not RSA-OAEP-256");
    CVM_ASSIGN_OR_RETURN(std::string n_text, RequiredString(jwk, "n", kWhat));
    CVM_ASSIGN_OR_RETURN(std::string e_text, RequiredString(jwk, "e", kWhat));
    CVM_ASSIGN_OR_RETURN(Bytes n, DecodeB64Url(n_text, "tee-pubkey n"));
    CVM_ASSIGN_OR_RETURN(Bytes e, DecodeB64Url(e_text, "tee-pubkey e"));
    if (n.size() != 256 || n[0] == 0) return InvalidInput("tee-pubkey: n must be 2048 bits");
    if (e.empty() || e.size() > 4 || e[0] == 0) {
      return InvalidInput("tee-pubkey: e must be a minimal big-endian integer of 1-4 bytes");
    }
    auto key = RsaPublicKeyFromNE(n, e);
    if (!key.ok()) return key.status().WithContext(kWhat);
    out.type = TeeKeyType::kRsa2048;
    out.key = std::move(key).value();
    return out;
  }
  return InvalidInput("tee-pubkey: kty \"" + kty + "\" is not EC or RSA");
}

Result<std::string> EncryptJwe(const TeePublicKey& recipient, ByteSpan plaintext) {
  if (!recipient.key) return InvalidInput("JWE: no recipient key");
  CVM_ASSIGN_OR_RETURN(Bytes cek_bytes, RandomBytes(kCekSize));
  SecretBytes cek(std::move(cek_bytes));
  CVM_ASSIGN_OR_RETURN(Bytes iv, RandomBytes(kIvSize));
  json header;
  Bytes encrypted_key;
  if (const CurveInfo* curve = CurveOf(recipient.type)) {
    // The ephemeral private key lives only in this scope (freed, and cleansed by OpenSSL).
    CVM_ASSIGN_OR_RETURN(ossl::PKey ephemeral, GenerateEc(*curve));
    CVM_ASSIGN_OR_RETURN(SecretBytes kek, DeriveKek(ephemeral.get(), recipient.key.get()));
    CVM_ASSIGN_OR_RETURN(encrypted_key, internal::AesKeyWrap(kek.view(), cek.view()));
    CVM_ASSIGN_OR_RETURN(auto xy, EcXY(ephemeral.get(), *curve));
    // nlohmann's objects are sorted: {"alg","enc","epk":{"crv","kty","x","y"}} - alg and enc
    // first, the rest sorted, as the Rust client re-serialises it (kbs-protocol.md section d).
    header = {{"alg", kEcdhAlg}, {"enc", kEnc}, {"epk", EcJwkMembers(*curve, xy.first, xy.second)}};
  } else {
    CVM_ASSIGN_OR_RETURN(encrypted_key, RsaOaepEncrypt(recipient.key.get(), cek.view()));
    header = {{"alg", kRsaAlg}, {"enc", kEnc}};
  }
  CVM_ASSIGN_OR_RETURN(std::string header_text, DumpJson(header));
  std::string protected_b64 = Base64UrlEncode(AsBytes(header_text));
  CVM_ASSIGN_OR_RETURN(GcmOutput gcm,
                       AesGcmEncrypt(cek.view(), iv, AsBytes(protected_b64), plaintext));
  json out{{"protected", protected_b64},
           {"encrypted_key", Base64UrlEncode(encrypted_key)},
           {"iv", Base64UrlEncode(iv)},
           {"ciphertext", Base64UrlEncode(gcm.ciphertext)},
           {"tag", Base64UrlEncode(gcm.tag)}};
  return DumpJson(out);
}

Result<ossl::PKey> LoadTokenSigningKey(std::string_view pem) {
  if (pem.empty()) return GenerateEc(kP256);
  CVM_ASSIGN_OR_RETURN(ossl::PKey key, PrivateKeyFromPem(pem));
  CVM_RETURN_IF_ERROR(CheckP256(key.get(), "token signing key"));
  return key;
}

Result<json> EcPublicJwk(const EVP_PKEY* key) {
  const CurveInfo* curve = key == nullptr ? nullptr : EcCurveOfKey(key);
  if (curve == nullptr) return InvalidInput("JWK: not an EC P-256/P-521 key");
  CVM_ASSIGN_OR_RETURN(auto xy, EcXY(key, *curve));
  return EcJwkMembers(*curve, xy.first, xy.second);
}

Result<Es256Signer> Es256Signer::Create(ossl::PKey key) {
  CVM_RETURN_IF_ERROR(CheckP256(key.get(), "JWT signing key"));
  CVM_ASSIGN_OR_RETURN(json public_jwk, EcPublicJwk(key.get()));
  // Sorted members, compact: {"alg":"ES256","jwk":{"crv","kty","x","y"},"typ":"JWT"}.
  json header{{"typ", "JWT"}, {"alg", "ES256"}, {"jwk", public_jwk}};
  CVM_ASSIGN_OR_RETURN(std::string header_text, DumpJson(header));
  return Es256Signer(std::move(key), Base64UrlEncode(AsBytes(header_text)));
}

Result<std::string> Es256Signer::Sign(const json& claims) const {
  if (!claims.is_object()) return InvalidInput("JWT: claims must be a JSON object");
  CVM_ASSIGN_OR_RETURN(std::string payload_text, DumpJson(claims));
  std::string token = header_b64_;
  token += '.';
  token += Base64UrlEncode(AsBytes(payload_text));
  // RFC 7515 section 5.1: the signing input is ASCII(header "." payload); RFC 7518 section 3.4:
  // the ES256 signature is R||S, 32 bytes each, not DER.
  CVM_ASSIGN_OR_RETURN(Bytes der, SignEcdsaDer(key_.get(), DigestAlg::kSha256, AsBytes(token)));
  CVM_ASSIGN_OR_RETURN(Bytes raw, EcdsaDerToRaw(der, 32));
  token += '.';
  token += Base64UrlEncode(raw);
  return token;
}

Result<std::string> SignJwt(const EVP_PKEY* key, const json& claims) {
  CVM_RETURN_IF_ERROR(CheckP256(key, "JWT"));
  if (!claims.is_object()) return InvalidInput("JWT: claims must be a JSON object");
  // A second reference to the caller's key, dropped with the signer.
  if (EVP_PKEY_up_ref(const_cast<EVP_PKEY*>(key)) != 1) return ossl::Error("EVP_PKEY_up_ref");
  CVM_ASSIGN_OR_RETURN(Es256Signer signer,
                       Es256Signer::Create(ossl::PKey(const_cast<EVP_PKEY*>(key))));
  return signer.Sign(claims);
}

Result<Jwt> DecodeJwt(std::string_view token) {
  CVM_ASSIGN_OR_RETURN(JwtParts parts, SplitJwt(token));
  Jwt jwt;
  CVM_ASSIGN_OR_RETURN(jwt.header, DecodeJsonPart(parts.header, "JWT header"));
  CVM_ASSIGN_OR_RETURN(jwt.claims, DecodeJsonPart(parts.payload, "JWT claims"));
  CVM_ASSIGN_OR_RETURN(Bytes signature, DecodeB64Url(parts.signature, "JWT signature"));
  (void)signature;
  for (const char* name : {"exp", "nbf", "iat"}) {
    if (jwt.claims.contains(name)) CVM_RETURN_IF_ERROR(NumericDate(jwt.claims, name).status());
  }
  return jwt;
}

Result<Jwt> VerifyJwt(std::string_view token, const EVP_PKEY* key, TimePoint now) {
  CVM_RETURN_IF_ERROR(CheckP256(key, "JWT verification key"));
  CVM_ASSIGN_OR_RETURN(Jwt jwt, DecodeJwt(token));
  auto alg = jwt.header.find("alg");
  if (alg == jwt.header.end() || *alg != "ES256") {
    return Rejected("JWT: header alg must be ES256");
  }
  CVM_ASSIGN_OR_RETURN(JwtParts parts, SplitJwt(token));
  // The configured key only; the header's "jwk" is never trusted.
  JanssonPtr jws(json_pack("{s:s%,s:s%,s:s%}", "protected", parts.header.data(),
                           parts.header.size(), "payload", parts.payload.data(),
                           parts.payload.size(), "signature", parts.signature.data(),
                           parts.signature.size()));
  JanssonPtr jwk(jose_openssl_jwk_from_EVP_PKEY(nullptr, const_cast<EVP_PKEY*>(key)));
  if (!jws || !jwk) return Internal("José: cannot build the JWS");
  json_object_del(jwk.get(), "d");  // verify with the public half only
  if (!jose_jws_ver(nullptr, jws.get(), nullptr, jwk.get(), false)) {
    return Rejected("JWT: ES256 signature does not verify with the configured key");
  }
  int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (!jwt.claims.contains("exp")) return Rejected("JWT: no \"exp\" claim");
  CVM_ASSIGN_OR_RETURN(int64_t exp, NumericDate(jwt.claims, "exp"));
  if (t >= exp) return Rejected("JWT: expired at " + std::to_string(exp));
  if (jwt.claims.contains("nbf")) {
    CVM_ASSIGN_OR_RETURN(int64_t nbf, NumericDate(jwt.claims, "nbf"));
    if (t < nbf) return Rejected("JWT: not valid before " + std::to_string(nbf));
  }
  return jwt;
}

}  // namespace cvm::evidence
