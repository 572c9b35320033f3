#include "common/keys.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstring>

namespace cvm {
namespace {

const char* CurveName(Curve curve) { return curve == Curve::kP256 ? "P-256" : "P-384"; }

using ParamBld = std::unique_ptr<OSSL_PARAM_BLD, ossl::Deleter<OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, ossl::Deleter<OSSL_PARAM_free>>;

Result<ossl::PKey> FromParams(const char* type, OSSL_PARAM_BLD* bld) {
  Params params(OSSL_PARAM_BLD_to_param(bld));
  ossl::PKeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return ossl::Error(std::string("invalid ") + type + " public key", Code::kInvalidInput);
  }
  return ossl::PKey(raw);
}

Result<Bytes> BnParam(const EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) {
    return ossl::Error(std::string("key has no ") + name, Code::kInvalidInput);
  }
  ossl::Bn bn(raw);
  Bytes out(static_cast<size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), out.data());
  return out;
}

}  // namespace

size_t CurveFieldSize(Curve curve) { return curve == Curve::kP256 ? 32 : 48; }

Result<ossl::PKey> GenerateEcKey(Curve curve) {
  EVP_PKEY* key = EVP_EC_gen(CurveName(curve));
  if (key == nullptr) return ossl::Error("EC key generation failed");
  return ossl::PKey(key);
}

Result<ossl::PKey> GenerateRsaKey(int bits) {
  EVP_PKEY* key = EVP_RSA_gen(static_cast<unsigned int>(bits));
  if (key == nullptr) return ossl::Error("RSA key generation failed");
  return ossl::PKey(key);
}

Result<ossl::PKey> PublicKeyFromPem(std::string_view pem) {
  ossl::Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* key = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (key == nullptr) return ossl::Error("not a PEM public key", Code::kInvalidInput);
  return ossl::PKey(key);
}

Result<ossl::PKey> PublicKeyFromDer(ByteSpan der) {
  const unsigned char* p = der.data();
  EVP_PKEY* key = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));  // NOLINT
  if (key == nullptr) return ossl::Error("not a DER public key", Code::kInvalidInput);
  if (p != der.data() + der.size()) {
    EVP_PKEY_free(key);
    return InvalidInput("DER public key has trailing bytes");
  }
  return ossl::PKey(key);
}

Result<ossl::PKey> PrivateKeyFromPem(std::string_view pem) {
  ossl::Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (key == nullptr) return ossl::Error("not a PEM private key", Code::kInvalidInput);
  return ossl::PKey(key);
}

namespace {
Result<std::string> BioToString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);  // NOLINT(google-runtime-int)
  if (n < 0) return Internal("BIO_get_mem_data failed");
  return std::string(data, static_cast<size_t>(n));
}
}  // namespace

Result<std::string> PublicKeyToPem(const EVP_PKEY* key) {
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), const_cast<EVP_PKEY*>(key)) != 1) {
    return ossl::Error("PEM_write_bio_PUBKEY");
  }
  return BioToString(bio.get());
}

Result<Bytes> PublicKeyToDer(const EVP_PKEY* key) {
  int n = i2d_PUBKEY(const_cast<EVP_PKEY*>(key), nullptr);
  if (n <= 0) return ossl::Error("i2d_PUBKEY");
  Bytes out(static_cast<size_t>(n));
  unsigned char* p = out.data();
  i2d_PUBKEY(const_cast<EVP_PKEY*>(key), &p);
  return out;
}

Result<SecretBytes> PrivateKeyToPem(const EVP_PKEY* key) {
  ossl::Bio bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), const_cast<EVP_PKEY*>(key), nullptr, nullptr, 0,
                                       nullptr, nullptr) != 1) {
    return ossl::Error("PEM_write_bio_PrivateKey");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);  // NOLINT(google-runtime-int)
  if (n < 0) return Internal("BIO_get_mem_data failed");
  SecretBytes out(static_cast<size_t>(n));
  std::memcpy(out.data(), data, out.size());
  return out;
}

Result<ossl::PKey> EcPublicKeyFromXY(Curve curve, ByteSpan x, ByteSpan y) {
  size_t n = CurveFieldSize(curve);
  if (x.size() != n || y.size() != n) {
    return InvalidInput(std::string(CurveName(curve)) + " point needs " + std::to_string(n) +
                        "-byte coordinates");
  }
  Bytes point;
  point.reserve(1 + 2 * n);
  point.push_back(0x04);  // SEC 1 uncompressed point.
  point.insert(point.end(), x.begin(), x.end());
  point.insert(point.end(), y.begin(), y.end());
  ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, CurveName(curve), 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return ossl::Error("OSSL_PARAM_BLD");
  }
  auto key = FromParams("EC", bld.get());
  if (!key.ok()) return key;
  // fromdata does not check that the point is on the curve. The quick check tests that the
  // point is on the curve and not the point at infinity; the full check would also multiply it
  // by the group order, which for P-256 and P-384 (cofactor 1: every curve point is in the
  // prime-order group) cannot fail and costs about a third of an ECDSA verification.
  ossl::PKeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key->get(), nullptr));
  if (!check || EVP_PKEY_public_check_quick(check.get()) != 1) {
    return ossl::Error("EC point is not on the curve", Code::kInvalidInput);
  }
  return key;
}

Result<Curve> EcKeyCurve(const EVP_PKEY* key) {
  if (KeyType(key) != EVP_PKEY_EC) return InvalidInput("not an EC key");
  char name[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), &len) !=
      1) {
    return ossl::Error("EC key has no curve", Code::kInvalidInput);
  }
  std::string_view n(name, len);
  if (n == "prime256v1" || n == "P-256") return Curve::kP256;
  if (n == "secp384r1" || n == "P-384") return Curve::kP384;
  return InvalidInput("unsupported EC curve " + std::string(n));
}

Result<Bytes> EcPublicKeyXY(const EVP_PKEY* key) {
  CVM_ASSIGN_OR_RETURN(Curve curve, EcKeyCurve(key));
  size_t n = CurveFieldSize(curve);
  Bytes out(2 * n);
  CVM_ASSIGN_OR_RETURN(Bytes x, BnParam(key, OSSL_PKEY_PARAM_EC_PUB_X));
  CVM_ASSIGN_OR_RETURN(Bytes y, BnParam(key, OSSL_PKEY_PARAM_EC_PUB_Y));
  if (x.size() > n || y.size() > n) return Internal("EC coordinate too large");
  std::copy(x.begin(), x.end(), out.begin() + static_cast<std::ptrdiff_t>(n - x.size()));
  std::copy(y.begin(), y.end(), out.begin() + static_cast<std::ptrdiff_t>(2 * n - y.size()));
  return out;
}

Result<ossl::PKey> RsaPublicKeyFromNE(ByteSpan n, ByteSpan e) {
  ossl::Bn bn_n(BN_bin2bn(n.data(), static_cast<int>(n.size()), nullptr));
  ossl::Bn bn_e(BN_bin2bn(e.data(), static_cast<int>(e.size()), nullptr));
  ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return ossl::Error("OSSL_PARAM_BLD");
  }
  if (BN_num_bits(bn_n.get()) < 1024) return InvalidInput("RSA modulus shorter than 1024 bits");
  return FromParams("RSA", bld.get());
}

Result<std::pair<Bytes, Bytes>> RsaPublicKeyNE(const EVP_PKEY* key) {
  if (KeyType(key) != EVP_PKEY_RSA) return InvalidInput("not an RSA key");
  CVM_ASSIGN_OR_RETURN(Bytes n, BnParam(key, OSSL_PKEY_PARAM_RSA_N));
  CVM_ASSIGN_OR_RETURN(Bytes e, BnParam(key, OSSL_PKEY_PARAM_RSA_E));
  return std::make_pair(std::move(n), std::move(e));
}

int KeyType(const EVP_PKEY* key) { return EVP_PKEY_get_base_id(key); }

}  // namespace cvm
