#include "tpm/attest.h"

#include "common/keys.h"
#include "common/signature.h"

namespace cvm::tpm {
namespace {

constexpr uint16_t kAlgNull = 0x0010;
// TPM 2.0 Part 2: the largest pcrSelect array a PC Client TPM uses is 3 bytes; the structure
// allows up to PCR_SELECT_MAX (4 on most TPMs) and TPML_PCR_SELECTION up to HASH_COUNT (16).
constexpr uint8_t kMaxSizeofSelect = 4;
constexpr uint32_t kMaxBanks = 16;

Result<ByteSpan> Tpm2b(ByteReader& r, std::string_view what, size_t max) {
  CVM_ASSIGN_OR_RETURN(uint16_t size, r.U16(what));
  if (size > max) {
    return r.Error(std::string(what) + " is " + std::to_string(size) + " bytes, at most " +
                   std::to_string(max) + " allowed");
  }
  return r.Take(size, what);
}

Result<PcrSelection> ReadPcrSelection(ByteReader& r) {
  CVM_ASSIGN_OR_RETURN(uint32_t count, r.U32("pcrSelect.count"));
  if (count > kMaxBanks)
    return r.Error("pcrSelect.count " + std::to_string(count) + " is too large");
  PcrSelection sel;
  for (uint32_t i = 0; i < count; ++i) {
    CVM_ASSIGN_OR_RETURN(uint16_t hash, r.U16("pcrSelections.hash"));
    CVM_ASSIGN_OR_RETURN(uint8_t size, r.U8("pcrSelections.sizeofSelect"));
    if (size > kMaxSizeofSelect) {
      return r.Error("sizeofSelect " + std::to_string(size) + " is too large");
    }
    CVM_ASSIGN_OR_RETURN(ByteSpan bits, r.Take(size, "pcrSelections.pcrSelect"));
    PcrBank bank;
    CVM_ASSIGN_OR_RETURN(bank.alg, DigestAlgFromTpm(hash));
    for (uint32_t byte = 0; byte < size; ++byte) {
      for (uint32_t bit = 0; bit < 8; ++bit) {
        if (bits[byte] & (1u << bit)) {
          uint32_t index = 8 * byte + bit;
          if (index > kMaxPcr) return r.Error("PCR " + std::to_string(index) + " selected");
          bank.pcrs.push_back(index);
        }
      }
    }
    for (const PcrBank& b : sel.banks) {
      if (b.alg == bank.alg) return r.Error("bank " + std::string(DigestName(b.alg)) + " twice");
    }
    sel.banks.push_back(std::move(bank));
  }
  return sel;
}

Result<Attest> ParseAttestImpl(ByteSpan data) {
  ByteReader r(data, "TPMS_ATTEST", ByteReader::Endian::kBig);
  Attest a;
  CVM_ASSIGN_OR_RETURN(a.magic, r.U32("magic"));
  if (a.magic != kTpmGeneratedValue) {
    return r.Error("magic is not TPM_GENERATED_VALUE: not produced by a TPM");
  }
  CVM_ASSIGN_OR_RETURN(a.type, r.U16("type"));
  if (a.type != kStAttestQuote) {
    return r.Error("type " + std::to_string(a.type) + " is not TPM_ST_ATTEST_QUOTE: not a quote");
  }
  // TPM2B_NAME holds a TPMU_NAME: a handle or an algorithm id and a digest (at most 2 + 64).
  CVM_ASSIGN_OR_RETURN(ByteSpan signer, Tpm2b(r, "qualifiedSigner", 2 + 64));
  a.qualified_signer = ToBytes(signer);
  CVM_ASSIGN_OR_RETURN(ByteSpan extra, Tpm2b(r, "extraData", 2 + 64));
  a.extra_data = ToBytes(extra);
  CVM_ASSIGN_OR_RETURN(a.clock, r.U64("clockInfo.clock"));
  CVM_ASSIGN_OR_RETURN(a.reset_count, r.U32("clockInfo.resetCount"));
  CVM_ASSIGN_OR_RETURN(a.restart_count, r.U32("clockInfo.restartCount"));
  CVM_ASSIGN_OR_RETURN(uint8_t safe, r.U8("clockInfo.safe"));
  if (safe > 1) return r.Error("clockInfo.safe is not a TPMI_YES_NO");
  a.safe = safe == 1;
  CVM_ASSIGN_OR_RETURN(a.firmware_version, r.U64("firmwareVersion"));
  CVM_ASSIGN_OR_RETURN(a.pcr_selection, ReadPcrSelection(r));
  CVM_ASSIGN_OR_RETURN(ByteSpan digest, Tpm2b(r, "pcrDigest", 64));
  a.pcr_digest = ToBytes(digest);
  if (!r.empty()) {
    return InvalidInput("TPMS_ATTEST: " + std::to_string(r.remaining()) +
                        " bytes after the end of the structure");
  }
  return a;
}

const char* SchemeName(SigScheme s) {
  switch (s) {
    case SigScheme::kRsaSsa:
      return "RSASSA-PKCS1-v1_5";
    case SigScheme::kRsaPss:
      return "RSASSA-PSS";
    case SigScheme::kEcdsa:
      return "ECDSA";
  }
  return "?";
}

}  // namespace

Result<Attest> ParseAttest(ByteSpan data) { return ParseAttestImpl(data); }

Result<TpmSignature> ParseTpmSignature(ByteSpan data) {
  ByteReader r(data, "TPMT_SIGNATURE", ByteReader::Endian::kBig);
  TpmSignature sig;
  CVM_ASSIGN_OR_RETURN(uint16_t alg, r.U16("sigAlg"));
  switch (alg) {
    case static_cast<uint16_t>(SigScheme::kRsaSsa):
    case static_cast<uint16_t>(SigScheme::kRsaPss):
    case static_cast<uint16_t>(SigScheme::kEcdsa):
      sig.scheme = static_cast<SigScheme>(alg);
      break;
    case kAlgNull:
      return r.Error("sigAlg is TPM_ALG_NULL: the quote is not signed");
    default:
      return r.Error("sigAlg " + std::to_string(alg) + " is not RSASSA, RSAPSS or ECDSA");
  }
  CVM_ASSIGN_OR_RETURN(uint16_t hash, r.U16("hash"));
  auto h = DigestAlgFromTpm(hash);
  if (!h.ok()) return h.status().WithContext("TPMT_SIGNATURE");
  sig.hash = *h;
  if (sig.scheme == SigScheme::kEcdsa) {
    CVM_ASSIGN_OR_RETURN(ByteSpan rr, Tpm2b(r, "signatureR", 66));
    CVM_ASSIGN_OR_RETURN(ByteSpan ss, Tpm2b(r, "signatureS", 66));
    sig.r = ToBytes(rr);
    sig.s = ToBytes(ss);
  } else {
    CVM_ASSIGN_OR_RETURN(ByteSpan s, Tpm2b(r, "sig", 512));
    sig.sig = ToBytes(s);
  }
  if (!r.empty()) {
    return InvalidInput("TPMT_SIGNATURE: " + std::to_string(r.remaining()) +
                        " bytes after the end of the structure");
  }
  return sig;
}

Status VerifyAttestSignature(const EVP_PKEY* ak, ByteSpan attest, const TpmSignature& signature) {
  int type = KeyType(ak);
  bool ec = signature.scheme == SigScheme::kEcdsa;
  if ((ec && type != EVP_PKEY_EC) || (!ec && type != EVP_PKEY_RSA)) {
    return Rejected(std::string("quote signature: signed with ") + SchemeName(signature.scheme) +
                    " but the AK is " + (type == EVP_PKEY_EC ? "an EC" : "an RSA") +
                    " key: not this AK's signature");
  }
  Status st;
  switch (signature.scheme) {
    case SigScheme::kEcdsa:
      st = VerifyEcdsaRaw(ak, signature.hash, attest, signature.r, signature.s);
      break;
    case SigScheme::kRsaSsa:
      st = VerifyRsaPkcs1(ak, signature.hash, attest, signature.sig);
      break;
    case SigScheme::kRsaPss:
      st = VerifyRsaPss(ak, signature.hash, attest, signature.sig);
      break;
  }
  if (st.ok()) return st;
  if (st.code() == Code::kRejected) {
    return Rejected(std::string("quote signature (") + SchemeName(signature.scheme) + "/" +
                    std::string(DigestName(signature.hash)) +
                    ") does not verify with the AK: the quote was changed or made by another key");
  }
  return st.WithContext("quote signature");
}

namespace {

Result<Attest> VerifyQuoteImpl(const EVP_PKEY* ak, ByteSpan attest, const TpmSignature& signature,
                               const ByteSpan* nonce, const PcrValues& pcrs) {
  CVM_RETURN_IF_ERROR(VerifyAttestSignature(ak, attest, signature));
  CVM_ASSIGN_OR_RETURN(Attest a, ParseAttest(attest));
  if (nonce != nullptr &&
      (a.extra_data.size() != nonce->size() || !ConstantTimeEqual(a.extra_data, *nonce))) {
    return Rejected(
        "quote: extraData (the qualifying data) does not equal the expected nonce (a replayed "
        "or foreign quote)");
  }
  // Values the quote does not cover prove nothing; a caller handed them could mistake them for
  // attested ones, so they are refused rather than ignored.
  std::vector<std::string> outside = PcrsOutsideSelection(a.pcr_selection, pcrs);
  if (!outside.empty()) {
    std::string list;
    for (const auto& p : outside) list += (list.empty() ? "" : ", ") + p;
    return Rejected("quote: PCR values given for " + list + ", outside the quoted selection " +
                    FormatPcrSelection(a.pcr_selection) + " (the quote does not cover them)");
  }
  auto digest = PcrCompositeDigest(signature.hash, a.pcr_selection, pcrs);
  if (!digest.ok()) return digest.status().WithContext("quote");
  if (*digest != a.pcr_digest) {
    return Rejected("quote: the PCR digest does not match the PCR values given for " +
                    FormatPcrSelection(a.pcr_selection));
  }
  return a;
}

}  // namespace

Result<Attest> VerifyQuote(const EVP_PKEY* ak, ByteSpan attest, const TpmSignature& signature,
                           ByteSpan nonce, const PcrValues& pcrs) {
  return VerifyQuoteImpl(ak, attest, signature, &nonce, pcrs);
}

Result<Attest> VerifyQuoteIgnoringNonce(const EVP_PKEY* ak, ByteSpan attest,
                                        const TpmSignature& signature, const PcrValues& pcrs) {
  return VerifyQuoteImpl(ak, attest, signature, nullptr, pcrs);
}

}  // namespace cvm::tpm
