#include "tpm/tss_convert.h"

#include "common/keys.h"

namespace cvm::tpm {

// The AK templates: a restricted signing key with a fixed scheme, fixed to this TPM, its private
// part generated inside it, usable with the (empty) password. Same shape as go-tpm-tools'
// AKTemplateECC/AKTemplateRSA and tpm2_createak's defaults.
TPM2B_PUBLIC AkTemplate(AkAlg alg) {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                       TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                       TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
  if (alg == AkAlg::kEcP256) {
    p.type = TPM2_ALG_ECC;
    p.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
    p.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
    p.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
    p.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
    p.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  } else {
    p.type = TPM2_ALG_RSA;
    p.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
    p.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
    p.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
    p.parameters.rsaDetail.keyBits = 2048;
    p.parameters.rsaDetail.exponent = 0;
  }
  return t;
}

Result<ossl::PKey> KeyFromTpmPublic(const TPMT_PUBLIC& p) {
  if (p.type == TPM2_ALG_RSA) {
    uint32_t e = p.parameters.rsaDetail.exponent ? p.parameters.rsaDetail.exponent : 65537;
    uint8_t exp[4] = {static_cast<uint8_t>(e >> 24), static_cast<uint8_t>(e >> 16),
                      static_cast<uint8_t>(e >> 8), static_cast<uint8_t>(e)};
    return RsaPublicKeyFromNE(ByteSpan(p.unique.rsa.buffer, p.unique.rsa.size), exp);
  }
  if (p.type == TPM2_ALG_ECC) {
    Curve curve;
    switch (p.parameters.eccDetail.curveID) {
      case TPM2_ECC_NIST_P256:
        curve = Curve::kP256;
        break;
      case TPM2_ECC_NIST_P384:
        curve = Curve::kP384;
        break;
      default:
        return Unsupported("AK curve " + std::to_string(p.parameters.eccDetail.curveID));
    }
    return EcPublicKeyFromXY(curve, ByteSpan(p.unique.ecc.x.buffer, p.unique.ecc.x.size),
                             ByteSpan(p.unique.ecc.y.buffer, p.unique.ecc.y.size));
  }
  return Unsupported("AK type " + std::to_string(p.type) + " is neither RSA nor ECC");
}

Result<TPML_PCR_SELECTION> ToTpml(const PcrSelection& selection) {
  TPML_PCR_SELECTION out{};
  if (selection.banks.size() > TPM2_NUM_PCR_BANKS) return InvalidInput("too many PCR banks");
  for (const PcrBank& bank : selection.banks) {
    TPMS_PCR_SELECTION& s = out.pcrSelections[out.count++];
    s.hash = TpmAlgId(bank.alg);
    s.sizeofSelect = 3;
    for (uint32_t i : bank.pcrs) {
      if (i > kMaxPcr) return InvalidInput("PCR " + std::to_string(i) + " out of range");
      s.pcrSelect[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
    }
  }
  return out;
}

}  // namespace cvm::tpm
