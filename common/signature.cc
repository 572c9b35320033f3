#include "common/signature.h"

#include <openssl/ec.h>
#include <openssl/rsa.h>

namespace cvm {
namespace {

enum class Scheme { kEcdsa, kRsaPss, kRsaPkcs1 };

Status CheckKey(const EVP_PKEY* key, Scheme scheme) {
  if (key == nullptr) return InvalidInput("no key");
  int type = EVP_PKEY_get_base_id(key);
  if (scheme == Scheme::kEcdsa && type != EVP_PKEY_EC) return InvalidInput("ECDSA needs an EC key");
  if (scheme != Scheme::kEcdsa && type != EVP_PKEY_RSA && type != EVP_PKEY_RSA_PSS) {
    return InvalidInput("RSA signature needs an RSA key");
  }
  return Status::Ok();
}

Status Configure(EVP_PKEY_CTX* pctx, Scheme scheme, DigestAlg alg, int salt_len) {
  if (scheme == Scheme::kRsaPss) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EvpMd(alg)) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt_len < 0 ? RSA_PSS_SALTLEN_DIGEST : salt_len) !=
            1) {
      return ossl::Error("RSA-PSS parameters");
    }
  } else if (scheme == Scheme::kRsaPkcs1) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
      return ossl::Error("RSA PKCS#1 padding");
    }
  }
  return Status::Ok();
}

Status Verify(const EVP_PKEY* key, Scheme scheme, DigestAlg alg, ByteSpan data, ByteSpan sig,
              int salt_len) {
  CVM_RETURN_IF_ERROR(CheckKey(key, scheme));
  ossl::MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, EvpMd(alg), nullptr,
                                   const_cast<EVP_PKEY*>(key)) != 1) {
    return ossl::Error("EVP_DigestVerifyInit", Code::kInvalidInput);
  }
  CVM_RETURN_IF_ERROR(Configure(pctx, scheme, alg, salt_len));
  int rc = EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), data.data(), data.size());
  ossl::ClearErrors();
  if (rc != 1) return Rejected("signature does not verify");
  return Status::Ok();
}

Result<Bytes> Sign(const EVP_PKEY* key, Scheme scheme, DigestAlg alg, ByteSpan data, int salt_len) {
  CVM_RETURN_IF_ERROR(CheckKey(key, scheme));
  ossl::MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), &pctx, EvpMd(alg), nullptr, const_cast<EVP_PKEY*>(key)) != 1) {
    return ossl::Error("EVP_DigestSignInit");
  }
  CVM_RETURN_IF_ERROR(Configure(pctx, scheme, alg, salt_len));
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, data.data(), data.size()) != 1) {
    return ossl::Error("EVP_DigestSign");
  }
  Bytes out(len);
  if (EVP_DigestSign(ctx.get(), out.data(), &len, data.data(), data.size()) != 1) {
    return ossl::Error("EVP_DigestSign");
  }
  out.resize(len);
  return out;
}

}  // namespace

Status VerifyEcdsaDer(const EVP_PKEY* key, DigestAlg alg, ByteSpan data, ByteSpan der_sig) {
  return Verify(key, Scheme::kEcdsa, alg, data, der_sig, 0);
}

Status VerifyEcdsaRaw(const EVP_PKEY* key, DigestAlg alg, ByteSpan data, ByteSpan r, ByteSpan s) {
  auto der = EcdsaRawToDer(r, s);
  if (!der.ok()) return Rejected("malformed ECDSA signature: " + der.status().message());
  return VerifyEcdsaDer(key, alg, data, *der);
}

Status VerifyRsaPss(const EVP_PKEY* key, DigestAlg alg, ByteSpan data, ByteSpan sig, int salt_len) {
  return Verify(key, Scheme::kRsaPss, alg, data, sig, salt_len);
}

Status VerifyRsaPkcs1(const EVP_PKEY* key, DigestAlg alg, ByteSpan data, ByteSpan sig) {
  return Verify(key, Scheme::kRsaPkcs1, alg, data, sig, 0);
}

Result<Bytes> SignEcdsaDer(const EVP_PKEY* key, DigestAlg alg, ByteSpan data) {
  return Sign(key, Scheme::kEcdsa, alg, data, 0);
}

Result<Bytes> SignRsaPss(const EVP_PKEY* key, DigestAlg alg, ByteSpan data, int salt_len) {
  return Sign(key, Scheme::kRsaPss, alg, data, salt_len);
}

Result<Bytes> SignRsaPkcs1(const EVP_PKEY* key, DigestAlg alg, ByteSpan data) {
  return Sign(key, Scheme::kRsaPkcs1, alg, data, 0);
}

Result<Bytes> EcdsaDerToRaw(ByteSpan der_sig, size_t width) {
  const unsigned char* p = der_sig.data();
  ossl::EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_sig.size())));  // NOLINT
  if (!sig || p != der_sig.data() + der_sig.size()) {
    ossl::ClearErrors();
    return InvalidInput("malformed DER ECDSA signature");
  }
  Bytes out(2 * width);
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out.data(), static_cast<int>(width)) < 0 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out.data() + width, static_cast<int>(width)) < 0) {
    return InvalidInput("ECDSA signature component wider than " + std::to_string(width) + " bytes");
  }
  return out;
}

Result<Bytes> EcdsaRawToDer(ByteSpan r, ByteSpan s) {
  ossl::EcdsaSig sig(ECDSA_SIG_new());
  BIGNUM* br = BN_bin2bn(r.data(), static_cast<int>(r.size()), nullptr);
  BIGNUM* bs = BN_bin2bn(s.data(), static_cast<int>(s.size()), nullptr);
  if (!sig || br == nullptr || bs == nullptr || ECDSA_SIG_set0(sig.get(), br, bs) != 1) {
    BN_free(br);
    BN_free(bs);
    return ossl::Error("ECDSA_SIG");
  }
  if (BN_is_zero(br) || BN_is_zero(bs)) return InvalidInput("ECDSA r or s is zero");
  int n = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (n <= 0) return ossl::Error("i2d_ECDSA_SIG");
  Bytes out(static_cast<size_t>(n));
  unsigned char* p = out.data();
  i2d_ECDSA_SIG(sig.get(), &p);
  return out;
}

}  // namespace cvm
