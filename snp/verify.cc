#include "snp/verify.h"

#include <algorithm>

#include "common/chain_cache.h"
#include "common/encoding.h"
#include "common/keys.h"
#include "common/signature.h"
#include "snp/roots.h"

namespace cvm::snp {
namespace {

// The product in an AMD CA's common name, or kUnknown for any other name.
Product ProductFromCaName(std::string_view cn) {
  for (std::string_view prefix : {"ARK-", "SEV-VLEK-", "SEV-"}) {
    if (cn.substr(0, prefix.size()) == prefix) {
      auto p = ParseProduct(cn.substr(prefix.size()));
      return p.ok() ? *p : Product::kUnknown;
    }
  }
  return Product::kUnknown;
}

Bytes LittleToBigEndian(ByteSpan le) { return Bytes(le.rbegin(), le.rend()); }

// The certificate that signed the report, by the extension that marks its kind. Among several
// VCEKs, the one whose hwID matches CHIP_ID (all 64 bytes, or the first 8 on Turin) wins.
Result<size_t> FindEndorsementKey(const std::vector<Certificate>& certs, const Report& report) {
  SigningKey kind = report.Signer().signing_key;
  const char* oid = kind == SigningKey::kVlek ? kOidCspId : kOidHwId;
  std::optional<size_t> first;
  for (size_t i = 0; i < certs.size(); ++i) {
    if (!certs[i].Extension(oid)) continue;
    if (!first) first = i;
    if (kind != SigningKey::kVcek) break;
    auto info = ReadEndorsementInfo(certs[i]);
    if (info.ok() && info->hwid &&
        std::equal(info->hwid->begin(), info->hwid->end(), report.chip_id.begin())) {
      return i;
    }
  }
  if (first) return *first;
  std::string name = kind == SigningKey::kVlek ? "VLEK" : "VCEK";
  return InvalidInput("no " + name + " certificate among the " + std::to_string(certs.size()) +
                      " given (the report is signed with a " + name +
                      "; supply it, e.g. with --cert, or allow fetching from AMD KDS)");
}

Status CheckSpl(std::vector<std::string>& problems, std::optional<uint8_t> cert, uint8_t report,
                std::string_view cert_name, std::string_view report_name) {
  if (!cert) {
    problems.push_back("the certificate has no " + std::string(cert_name) + " extension");
  } else if (*cert != report) {
    problems.push_back("certificate " + std::string(cert_name) + " " + std::to_string(*cert) +
                       " != REPORTED_TCB " + std::string(report_name) + " " +
                       std::to_string(report));
  }
  return Status::Ok();
}

Status CheckTcb(const EndorsementInfo& info, const Report& report, Product product) {
  TcbParts tcb = DecodeTcb(report.reported_tcb, product);
  std::vector<std::string> problems;
  (void)CheckSpl(problems, info.bl_spl, tcb.bootloader, "blSPL", "bootloader");
  (void)CheckSpl(problems, info.tee_spl, tcb.tee, "teeSPL", "tee");
  (void)CheckSpl(problems, info.snp_spl, tcb.snp, "snpSPL", "snp");
  (void)CheckSpl(problems, info.ucode_spl, tcb.microcode, "ucodeSPL", "microcode");
  if (UsesTurinLayout(product)) {
    (void)CheckSpl(problems, info.fmc_spl, tcb.fmc, "fmcSPL", "fmc");
  }
  if (problems.empty()) return Status::Ok();
  std::string msg = "endorsement key is for another TCB: ";
  for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
  return Rejected(msg);
}

Status CheckHwId(const EndorsementInfo& info, const Report& report, Product product) {
  if (report.Signer().mask_chip_id) {
    // The host asked firmware to zero CHIP_ID; anything else is not what firmware writes.
    if (!IsAllZero(report.chip_id)) {
      return Rejected("MASK_CHIP_ID is set but CHIP_ID is not zero");
    }
    return Status::Ok();
  }
  if (!info.hwid) return Rejected("the VCEK has no hwID extension");
  ByteSpan want = HwId(report, product);
  if (info.hwid->size() != want.size() ||
      !std::equal(want.begin(), want.end(), info.hwid->begin())) {
    return Rejected("VCEK hwID " + HexEncode(*info.hwid) + " != report CHIP_ID " + HexEncode(want) +
                    ": the VCEK belongs to another chip");
  }
  return Status::Ok();
}

Status CheckSignature(const Certificate& leaf, ByteSpan bytes, const Report& report) {
  CVM_ASSIGN_OR_RETURN(ossl::PKey key, leaf.PublicKey());
  auto curve = EcKeyCurve(key.get());
  if (!curve.ok() || *curve != Curve::kP384) {
    return Rejected("the endorsement key is not an EC P-384 key");
  }
  Bytes r = LittleToBigEndian(report.signature_r);
  Bytes s = LittleToBigEndian(report.signature_s);
  Status st = VerifyEcdsaRaw(key.get(), DigestAlg::kSha384, bytes.first(kSignedSize), r, s);
  if (st.code() == Code::kRejected) {
    return Rejected("report signature does not verify with the " + leaf.CommonName() +
                    " key (report altered or signed by another key)");
  }
  return st;
}

// AMD's CRLs are issued by the ARK and list revoked ASKs/ASVKs; the VCEK's issuer publishes none,
// so OpenSSL's all-or-nothing CRL checking does not fit. Each CRL must be signed by a trusted
// anchor; every given certificate issued by that anchor must be absent from it.
Status CheckCrls(const std::vector<Crl>& crls, const std::vector<Certificate>& anchors,
                 const std::vector<Certificate>& chain, TimePoint at) {
  for (const Crl& crl : crls) {
    const Certificate* signer = nullptr;
    for (const auto& a : anchors) {
      if (a.Subject() != crl.Issuer()) continue;
      auto key = a.PublicKey();
      if (key.ok() && X509_CRL_verify(crl.get(), key->get()) == 1) signer = &a;
      ossl::ClearErrors();
    }
    if (signer == nullptr) {
      return Rejected("CRL issued by " + crl.Issuer() + " is not signed by a trusted root");
    }
    CVM_ASSIGN_OR_RETURN(CertTime this_update, crl.ThisUpdate());
    CVM_ASSIGN_OR_RETURN(std::optional<CertTime> next, crl.NextUpdate());
    if (IsAfter(this_update, at)) return Rejected("CRL is not yet valid at the evaluation time");
    if (next && IsBefore(*next, at)) {
      return Rejected("CRL from " + crl.Issuer() + " expired at the evaluation time");
    }
    for (const auto& c : chain) {
      if (c.Issuer() == crl.Issuer() && crl.Lists(c)) {
        return Rejected("certificate " + c.Subject() + " (serial " + c.SerialHex() +
                        ") is revoked");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Result<VerifiedReport> VerifyReport(ByteSpan bytes, const VerifyOptions& options) {
  CVM_ASSIGN_OR_RETURN(Report report, ParseReport(bytes));
  if (report.signature_algo != kSignatureAlgoEcdsaP384Sha384) {
    return Rejected("snp report: signature algorithm " + std::to_string(report.signature_algo) +
                    " is not ECDSA P-384 with SHA-384 (1)");
  }
  SignerInfo signer = report.Signer();
  if (signer.signing_key == SigningKey::kNone) {
    return Rejected("snp report: SIGNING_KEY is 'none': the report is not signed");
  }
  if (options.certs.empty()) {
    return InvalidInput("no certificates to verify the report with (need the VCEK or VLEK)");
  }
  CVM_ASSIGN_OR_RETURN(size_t leaf_index, FindEndorsementKey(options.certs, report));
  const Certificate& leaf = options.certs[leaf_index];
  auto info_or = ReadEndorsementInfo(leaf);
  if (!info_or.ok()) return Rejected(info_or.status().ToString());
  EndorsementInfo info = std::move(*info_or);

  // Product: the report's CPUID is signed; the caller's word and the certificate must agree.
  Product product = ProductFromCpuid(report);
  if (product == Product::kUnknown) product = options.product;
  if (product == Product::kUnknown) product = info.product;
  if (product == Product::kUnknown) {
    return InvalidInput(
        "cannot tell the AMD product (Milan, Genoa, Turin): the report has no "
        "CPUID and the certificate does not say; name it");
  }
  if (info.product != Product::kUnknown && info.product != product) {
    return Rejected("the " + leaf.CommonName() + " certificate is for " +
                    std::string(ProductName(info.product)) + " but the report is from " +
                    std::string(ProductName(product)));
  }

  // AMD names its CAs after the product (ARK-Genoa, SEV-Genoa, SEV-VLEK-Genoa); a supplied chain
  // for another product is refused even when the built-in intermediates would complete it.
  for (size_t i = 0; i < options.certs.size(); ++i) {
    Product named = ProductFromCaName(options.certs[i].CommonName());
    if (i != leaf_index && named != Product::kUnknown && named != product) {
      return Rejected("certificate " + options.certs[i].CommonName() + " is for " +
                      std::string(ProductName(named)) + " but the report is from " +
                      std::string(ProductName(product)));
    }
  }

  // Chain: leaf -> ASK/ASVK -> ARK.
  std::vector<Certificate> intermediates;
  for (size_t i = 0; i < options.certs.size(); ++i) {
    if (i != leaf_index) intermediates.push_back(options.certs[i]);
  }
  const AmdChain& builtin = BuiltinChain(product);
  std::vector<Certificate> anchors = options.roots;
  if (anchors.empty()) anchors.push_back(builtin.ark);
  // AMD's intermediate is only a candidate: it completes a chain to AMD's ARK (built in or named
  // with --root) and to nothing else.
  intermediates.push_back(signer.signing_key == SigningKey::kVlek ? builtin.asvk : builtin.ask);
  ChainOptions chain;
  chain.at = options.at;
  CVM_RETURN_IF_ERROR(VerifyChainCached(options.chain_cache, leaf, intermediates, anchors, chain));
  std::vector<Certificate> all = intermediates;
  all.push_back(leaf);
  CVM_RETURN_IF_ERROR(CheckCrls(options.crls, anchors, all, options.at));

  CVM_RETURN_IF_ERROR(CheckSignature(leaf, bytes, report));
  CVM_RETURN_IF_ERROR(CheckTcb(info, report, product));
  if (signer.signing_key == SigningKey::kVcek) {
    CVM_RETURN_IF_ERROR(CheckHwId(info, report, product));
  } else if (!info.csp_id) {
    return Rejected("the VLEK has no cspId extension");
  }
  return VerifiedReport{report, product, signer.signing_key, leaf, std::move(info)};
}

}  // namespace cvm::snp
