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
// - JWS (the ES256 token) uses José: jose_jws_sig / jose_jws_ver.
#include "evidence/jose.h"

// José's headers declare C functions without extern "C".
extern "C" {
#include <jose/jose.h>
#include <jose/openssl.h>
}
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <cstdlib>

#include "common/encoding.h"
#include "common/keys.h"
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

// José's and jansson's objects.
struct JsonDecref {
  void operator()(json_t* j) const { json_decref(j); }
};
using JanssonPtr = std::unique_ptr<json_t, JsonDecref>;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, ossl::Deleter<EVP_CIPHER_CTX_free>>;
using Kdf = std::unique_ptr<EVP_KDF, ossl::Deleter<EVP_KDF_free>>;
using KdfCtx = std::unique_ptr<EVP_KDF_CTX, ossl::Deleter<EVP_KDF_CTX_free>>;
using ParamBld = std::unique_ptr<OSSL_PARAM_BLD, ossl::Deleter<OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, ossl::Deleter<OSSL_PARAM_free>>;

Result<JanssonPtr> ToJansson(const json& value) {
  CVM_ASSIGN_OR_RETURN(std::string text, DumpJson(value));
  json_error_t error;
  JanssonPtr out(json_loadb(text.data(), text.size(), JSON_DECODE_ANY, &error));
  if (!out) return Internal(std::string("jansson: ") + error.text);
  return out;
}

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
  ossl::PKey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve.ossl_group));
  if (!key) return ossl::Error("EC key generation");
  return key;
}

Result<ossl::PKey> EcKeyFromXY(const CurveInfo& curve, ByteSpan x, ByteSpan y) {
  Bytes point;
  point.reserve(1 + x.size() + y.size());
  point.push_back(0x04);
  point.insert(point.end(), x.begin(), x.end());
  point.insert(point.end(), y.begin(), y.end());
  ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve.ossl_group, 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return ossl::Error("EC parameters");
  }
  Params params(OSSL_PARAM_BLD_to_param(bld.get()));
  ossl::PKeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return ossl::Error("EC point is not on the curve", Code::kInvalidInput);
  }
  ossl::PKey key(raw);
  ossl::PKeyCtx check(EVP_PKEY_CTX_new(key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
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
  auto coord = [&](const char* param) -> Result<Bytes> {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key, param, &raw) != 1) return ossl::Error("EC coordinate");
    ossl::Bn bn(raw);
    Bytes out(curve.field);
    if (BN_bn2binpad(bn.get(), out.data(), static_cast<int>(out.size())) < 0) {
      return ossl::Error("EC coordinate size");
    }
    return out;
  };
  CVM_ASSIGN_OR_RETURN(Bytes x, coord(OSSL_PKEY_PARAM_EC_PUB_X));
  CVM_ASSIGN_OR_RETURN(Bytes y, coord(OSSL_PKEY_PARAM_EC_PUB_Y));
  return std::make_pair(std::move(x), std::move(y));
}

json EcJwkMembers(const CurveInfo& curve, ByteSpan x, ByteSpan y) {
  return json{
      {"kty", "EC"}, {"crv", curve.jwk_name}, {"x", Base64UrlEncode(x)}, {"y", Base64UrlEncode(y)}};
}

Result<SecretBytes> EcdhSharedSecret(const EVP_PKEY* own, const EVP_PKEY* peer) {
  ossl::PKeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, const_cast<EVP_PKEY*>(own), nullptr));
  size_t len = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), const_cast<EVP_PKEY*>(peer)) != 1 ||
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
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
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
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
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

  Kdf kdf(EVP_KDF_fetch(nullptr, "SSKDF", nullptr));
  if (!kdf) return ossl::Error("SSKDF");
  KdfCtx ctx(EVP_KDF_CTX_new(kdf.get()));
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

Result<std::string> SignJwt(const EVP_PKEY* key, const json& claims) {
  CVM_RETURN_IF_ERROR(CheckP256(key, "JWT"));
  if (!claims.is_object()) return InvalidInput("JWT: claims must be a JSON object");
  CVM_ASSIGN_OR_RETURN(json public_jwk, EcPublicJwk(key));
  CVM_ASSIGN_OR_RETURN(std::string payload_text, DumpJson(claims));
  json protected_header{{"typ", "JWT"}, {"alg", "ES256"}, {"jwk", public_jwk}};
  CVM_ASSIGN_OR_RETURN(JanssonPtr sig_template, ToJansson(json{{"protected", protected_header}}));
  CVM_ASSIGN_OR_RETURN(JanssonPtr jws,
                       ToJansson(json{{"payload", Base64UrlEncode(AsBytes(payload_text))}}));
  JanssonPtr jwk(jose_openssl_jwk_from_EVP_PKEY(nullptr, const_cast<EVP_PKEY*>(key)));
  if (!jwk) return Internal("José: cannot export the signing key");
  if (!jose_jws_sig(nullptr, jws.get(), sig_template.get(), jwk.get())) {
    return Internal("José: jose_jws_sig failed");
  }
  const char* prot = json_string_value(json_object_get(jws.get(), "protected"));
  const char* payload = json_string_value(json_object_get(jws.get(), "payload"));
  const char* signature = json_string_value(json_object_get(jws.get(), "signature"));
  if (prot == nullptr || payload == nullptr || signature == nullptr) {
    return Internal("José: unexpected JWS shape");
  }
  return std::string(prot) + "." + payload + "." + signature;
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
