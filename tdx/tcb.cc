#include "tdx/tcb.h"

#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "common/chain_cache.h"
#include "common/encoding.h"
#include "common/signature.h"
#include "tdx/roots.h"

namespace cvm::tdx {

namespace {

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

// Whether `at` lies in [issue, next). Certificate and CRL times are whole seconds that may lie
// past 2262 (common/x509.h), so they are compared without converting them to a TimePoint.
Status CheckCurrent(CertTime issue, CertTime next, TimePoint at, std::string_view what) {
  if (IsAfter(issue, at)) {
    return Rejected(std::string(what) + " is not yet valid at " + FormatTime(at) + " (issued " +
                    FormatTime(issue) + ")");
  }
  if (!IsAfter(next, at)) {
    return Rejected(std::string(what) + " expired at " + FormatTime(next) + " (evaluated at " +
                    FormatTime(at) + ")");
  }
  return Status::Ok();
}

// The same for collateral dates, which are TimePoints already (common/clock.h ParseTime).
Status CheckCurrent(TimePoint issue, TimePoint next, TimePoint at, std::string_view what) {
  if (at < issue) {
    return Rejected(std::string(what) + " is not yet valid at " + FormatTime(at) + " (issued " +
                    FormatTime(issue) + ")");
  }
  if (at >= next) {
    return Rejected(std::string(what) + " expired at " + FormatTime(next) + " (evaluated at " +
                    FormatTime(at) + ")");
  }
  return Status::Ok();
}

Status VerifyCrlBy(const Crl& crl, const Certificate& issuer, TimePoint at, std::string_view what) {
  auto key = issuer.PublicKey();
  if (!key.ok()) return key.status().WithContext(what);
  if (X509_CRL_verify(crl.get(), key->get()) != 1) {
    ossl::ClearErrors();
    return Rejected(std::string(what) + " is not signed by " + issuer.CommonName());
  }
  auto this_update = crl.ThisUpdate();
  if (!this_update.ok()) return this_update.status().WithContext(what);
  auto next = crl.NextUpdate();
  if (!next.ok()) return next.status().WithContext(what);
  if (!*next) return Rejected(std::string(what) + " has no nextUpdate");
  return CheckCurrent(*this_update, **next, at, what);
}

// Verifies a PEM issuer chain (signer first) to the anchors; returns the signer.
Result<Certificate> VerifyIssuerChain(const std::string& pem,
                                      const std::vector<Certificate>& anchors, const Crl& root_crl,
                                      TimePoint at, std::string_view what, ChainCache* cache) {
  auto certs = ParseCertificates(AsBytes(pem));
  if (!certs.ok()) return certs.status().WithContext(what);
  std::vector<Certificate> rest(certs->begin() + 1, certs->end());
  ChainOptions o;
  o.at = at;
  o.crls = {root_crl};
  Status s = VerifyChainCached(cache, (*certs)[0], rest, anchors, o);
  if (!s.ok()) return s.WithContext(what);
  return (*certs)[0];
}

Status VerifyJsonSignature(const Certificate& signer, std::string_view text, ByteSpan sig,
                           std::string_view what) {
  // ParseCollateral checks the size, but a Collateral can be built or altered by its caller.
  if (sig.size() != kEcdsaP256SigSize) {
    return InvalidInput(std::string(what) + " signature is " + std::to_string(sig.size()) +
                        " bytes; an ECDSA P-256 signature is 64 (r||s)");
  }
  auto key = signer.PublicKey();
  if (!key.ok()) return key.status().WithContext(what);
  Status s = VerifyEcdsaRaw(key->get(), DigestAlg::kSha256, AsBytes(text), sig.first(32),
                            sig.subspan(32, 32));
  if (!s.ok()) {
    return Rejected(std::string(what) + " signature does not verify with " + signer.CommonName() +
                    " (" + s.message() + ")");
  }
  return Status::Ok();
}

// Intel QVL convergence rules (TdxModuleCheck.cpp, TcbLevelCheck.cpp).
TcbStatus Converge(TcbStatus level, TcbStatus other) {
  if (other == TcbStatus::kOutOfDate) {
    if (level == TcbStatus::kUpToDate || level == TcbStatus::kSWHardeningNeeded) {
      return TcbStatus::kOutOfDate;
    }
    if (level == TcbStatus::kConfigurationNeeded ||
        level == TcbStatus::kConfigurationAndSWHardeningNeeded) {
      return TcbStatus::kOutOfDateConfigurationNeeded;
    }
  }
  if (other == TcbStatus::kRevoked) return TcbStatus::kRevoked;
  return level;
}

const IsvSvnLevel* FindIsvSvnLevel(const std::vector<IsvSvnLevel>& levels, uint16_t svn) {
  for (const IsvSvnLevel& l : levels) {
    if (svn >= l.isv_svn) return &l;
  }
  return nullptr;
}

bool MaskedEqual(ByteSpan value, ByteSpan mask, ByteSpan expected) {
  if (value.size() != mask.size() || value.size() != expected.size()) return false;
  for (size_t i = 0; i < value.size(); ++i) {
    if ((value[i] & mask[i]) != expected[i]) return false;
  }
  return true;
}

void AddAdvisories(std::vector<std::string>& out, const std::vector<std::string>& more) {
  out.insert(out.end(), more.begin(), more.end());
}

}  // namespace

Result<VerifiedCollateral> VerifyCollateral(const Collateral& c,
                                            const std::vector<Certificate>& roots, TimePoint at) {
  std::vector<Certificate> anchors = roots;
  if (anchors.empty()) anchors.push_back(IntelSgxRootCa());
  auto root_crl = Crl::Parse(c.root_ca_crl);
  if (!root_crl.ok()) return root_crl.status().WithContext("collateral: root_ca_crl");
  auto pck_crl = Crl::Parse(c.pck_crl);
  if (!pck_crl.ok()) return pck_crl.status().WithContext("collateral: pck_crl");

  // The root CA CRL must be issued by a trusted root.
  Status root_ok = Rejected("collateral: root CA CRL is not issued by a trusted root");
  for (const Certificate& a : anchors) {
    if (a.Subject() != root_crl->Issuer()) continue;
    root_ok = VerifyCrlBy(*root_crl, a, at, "collateral: root CA CRL");
    if (root_ok.ok()) break;
  }
  CVM_RETURN_IF_ERROR(root_ok);

  // PCS signs TCB info and QE identity with the same TCB Signing certificate, so two of the three
  // issuer chains are usually the same bytes: a cache for this call verifies them once.
  ChainCache this_call;
  CVM_ASSIGN_OR_RETURN(Certificate pck_ca,
                       VerifyIssuerChain(c.pck_crl_issuer_chain, anchors, *root_crl, at,
                                         "collateral: pck crl issuer chain", &this_call));
  CVM_RETURN_IF_ERROR(VerifyCrlBy(*pck_crl, pck_ca, at, "collateral: pck CRL"));
  CVM_ASSIGN_OR_RETURN(Certificate tcb_signer,
                       VerifyIssuerChain(c.tcb_info_issuer_chain, anchors, *root_crl, at,
                                         "collateral: tcb info issuer chain", &this_call));
  CVM_ASSIGN_OR_RETURN(Certificate qe_signer,
                       VerifyIssuerChain(c.qe_identity_issuer_chain, anchors, *root_crl, at,
                                         "collateral: qe identity issuer chain", &this_call));
  CVM_RETURN_IF_ERROR(
      VerifyJsonSignature(tcb_signer, c.tcb_info, c.tcb_info_signature, "collateral: tcb info"));
  CVM_RETURN_IF_ERROR(VerifyJsonSignature(qe_signer, c.qe_identity, c.qe_identity_signature,
                                          "collateral: qe identity"));
  VerifiedCollateral v;
  auto tcb = ParseTcbInfo(c.tcb_info);
  if (!tcb.ok()) return tcb.status().WithContext("collateral");
  v.tcb_info = std::move(*tcb);
  auto qe = ParseQeIdentity(c.qe_identity);
  if (!qe.ok()) return qe.status().WithContext("collateral");
  v.qe_identity = std::move(*qe);
  CVM_RETURN_IF_ERROR(
      CheckCurrent(v.tcb_info.issue_date, v.tcb_info.next_update, at, "collateral: tcb info"));
  CVM_RETURN_IF_ERROR(CheckCurrent(v.qe_identity.issue_date, v.qe_identity.next_update, at,
                                   "collateral: qe identity"));
  v.crls = {*root_crl, *pck_crl};
  return v;
}

Result<TcbEvaluation> EvaluateTcb(const Quote& quote, const PckExtensions& pck,
                                  const VerifiedCollateral& collateral) {
  const TcbInfo& info = collateral.tcb_info;
  const QeIdentity& qe = collateral.qe_identity;
  if (pck.fmspc != info.fmspc) {
    return Rejected("tcb: PCK certificate FMSPC " + HexEncode(pck.fmspc) +
                    " does not match the TCB info FMSPC " + HexEncode(info.fmspc));
  }
  if (pck.pce_id != info.pce_id) {
    return Rejected("tcb: PCK certificate PCE-ID " + HexEncode(pck.pce_id) +
                    " does not match the TCB info PCE-ID " + HexEncode(info.pce_id));
  }
  TcbEvaluation out;

  // QE identity (Intel QVL EnclaveReportVerifier).
  const QeReport& r = quote.certification.qe_report;
  std::vector<std::string> qe_problems;
  if (r.mrsigner != qe.mrsigner) qe_problems.push_back("MRSIGNER " + HexEncode(r.mrsigner));
  if (r.isv_prod_id != qe.isv_prod_id) {
    qe_problems.push_back("ISVPRODID " + std::to_string(r.isv_prod_id));
  }
  if ((r.miscselect & qe.miscselect_mask) != qe.miscselect) qe_problems.push_back("MISCSELECT");
  if (!MaskedEqual(r.attributes, qe.attributes_mask, qe.attributes)) {
    qe_problems.push_back("ATTRIBUTES " + HexEncode(r.attributes));
  }
  if (!qe_problems.empty()) {
    std::string msg = "tcb: the QE report does not match the QE identity:";
    for (const auto& p : qe_problems) msg += " " + p + ";";
    msg.pop_back();
    return Rejected(msg);
  }
  const IsvSvnLevel* qe_level = FindIsvSvnLevel(qe.levels, r.isv_svn);
  if (qe_level == nullptr) {
    return Rejected("tcb: QE ISVSVN " + std::to_string(r.isv_svn) +
                    " is below every TCB level of the QE identity");
  }
  out.qe_status = qe_level->status;

  // TDX module identity (Intel QVL TdxModuleCheck).
  const TdQuoteBody& body = quote.body;
  uint8_t module_version = body.tee_tcb_svn[1];
  const TdxModuleIdentity* module = &info.tdx_module;
  std::string module_name = "tdxModule";
  if (module_version > 0) {
    char id[8];
    std::snprintf(id, sizeof(id), "TDX_%02X", module_version);
    module = nullptr;
    for (const auto& m : info.tdx_module_identities) {
      if (Upper(m.id) == id) module = &m;
    }
    if (module == nullptr) {
      return Rejected(std::string("tcb: the TCB info has no TDX module identity ") + id +
                      " for TEE_TCB_SVN[1] = " + std::to_string(module_version));
    }
    module_name = id;
  }
  if (body.mrsignerseam != module->mrsigner) {
    return Rejected("tcb: MRSIGNERSEAM does not match TDX module identity " + module_name);
  }
  if (!MaskedEqual(body.seam_attributes, module->attributes_mask, module->attributes)) {
    return Rejected("tcb: SEAMATTRIBUTES do not match TDX module identity " + module_name);
  }
  std::vector<std::string> advisories;
  if (module_version > 0) {
    const IsvSvnLevel* ml = FindIsvSvnLevel(module->levels, body.tee_tcb_svn[0]);
    if (ml == nullptr) {
      return Rejected("tcb: TDX module SVN " + std::to_string(body.tee_tcb_svn[0]) +
                      " is below every TCB level of " + module_name);
    }
    out.tdx_module_status = ml->status;
    AddAdvisories(advisories, ml->advisory_ids);
  }

  // The platform TCB level (Intel QVL TcbLevelCheck matchTcbLevels).
  const TcbComponentsLevel* sgx_level = nullptr;
  const TcbComponentsLevel* tdx_level = nullptr;
  size_t tdx_from = module_version > 0 ? 2 : 0;
  for (const TcbComponentsLevel& l : info.levels) {
    bool sgx_ok = pck.pce_svn >= l.pce_svn;
    for (size_t i = 0; i < 16 && sgx_ok; ++i) sgx_ok = pck.tcb_comps[i] >= l.sgx[i];
    if (!sgx_ok) continue;
    if (sgx_level == nullptr) sgx_level = &l;
    bool tdx_ok = true;
    for (size_t i = tdx_from; i < 16 && tdx_ok; ++i) tdx_ok = body.tee_tcb_svn[i] >= l.tdx[i];
    if (tdx_ok) {
      tdx_level = &l;
      break;
    }
  }
  if (sgx_level == nullptr) {
    return Rejected(
        "tcb: no TCB level matches the PCK certificate's SGX TCB components and "
        "PCESVN " +
        std::to_string(pck.pce_svn) + " (TCB not supported)");
  }
  if (tdx_level == nullptr) {
    return Rejected("tcb: no TCB level matches TEE_TCB_SVN " + HexEncode(body.tee_tcb_svn) +
                    " (TCB not supported)");
  }
  out.platform_status = tdx_level->status;
  out.tcb_date = tdx_level->tcb_date;
  AddAdvisories(advisories, tdx_level->advisory_ids);
  TcbStatus status = tdx_level->status;
  if (out.tdx_module_status) status = Converge(status, *out.tdx_module_status);
  status = Converge(status, out.qe_status);
  AddAdvisories(advisories, qe_level->advisory_ids);
  std::sort(advisories.begin(), advisories.end());
  advisories.erase(std::unique(advisories.begin(), advisories.end()), advisories.end());
  out.status = status;
  out.advisory_ids = std::move(advisories);
  return out;
}

}  // namespace cvm::tdx
