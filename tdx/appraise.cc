#include "tdx/appraise.h"

#include "common/encoding.h"
#include "common/log.h"
#include "tdx/pck.h"

namespace cvm::tdx {
namespace {

using ojson = nlohmann::ordered_json;

// The FMSPC of the PCK certificate in the quote, without verifying it (for display).
ojson FmspcOf(const Quote& q) {
  auto certs = ParseCertificates(q.certification.pck_cert_data);
  if (!certs.ok() || certs->empty()) return nullptr;
  auto ext = PckExtensionsOf((*certs)[0]);
  if (!ext.ok()) return nullptr;
  return HexEncode(ext->fmspc);
}

}  // namespace

ojson QuoteToJson(const Quote& q) {
  const TdQuoteBody& b = q.body;
  ojson j;
  j["tee"] = "tdx";
  j["version"] = q.header.version;
  j["att_key_type"] = q.header.att_key_type;
  j["tee_type"] = q.header.tee_type;
  j["qe_svn"] = q.header.qe_svn;
  j["pce_svn"] = q.header.pce_svn;
  j["qe_vendor_id"] = HexEncode(q.header.qe_vendor_id);
  j["user_data"] = HexEncode(q.header.user_data);
  j["body_type"] = q.body_type;
  j["tee_tcb_svn"] = HexEncode(b.tee_tcb_svn);
  j["mrseam"] = HexEncode(b.mrseam);
  j["mrsignerseam"] = HexEncode(b.mrsignerseam);
  j["seam_attributes"] = HexEncode(b.seam_attributes);
  j["td_attributes"] = HexEncode(b.td_attributes);
  j["xfam"] = HexEncode(b.xfam);
  j["mrtd"] = HexEncode(b.mrtd);
  j["mrconfigid"] = HexEncode(b.mrconfigid);
  j["mrowner"] = HexEncode(b.mrowner);
  j["mrownerconfig"] = HexEncode(b.mrownerconfig);
  for (size_t i = 0; i < 4; ++i) j["rtmr" + std::to_string(i)] = HexEncode(b.rtmr[i]);
  j["report_data"] = HexEncode(b.report_data);
  if (b.tee_tcb_svn2) j["tee_tcb_svn2"] = HexEncode(*b.tee_tcb_svn2);
  if (b.mrservicetd) j["mrservicetd"] = HexEncode(*b.mrservicetd);
  j["fmspc"] = FmspcOf(q);
  j["qe_report_isv_svn"] = q.certification.qe_report.isv_svn;
  return j;
}

std::vector<std::string> TdReportMismatches(const TdReport& r, const TdQuoteBody& b) {
  const std::pair<const char*, std::pair<const Bytes*, const Bytes*>> fields[] = {
      {"TEE_TCB_SVN", {&r.tee_tcb_svn, &b.tee_tcb_svn}},
      {"MRSEAM", {&r.mrseam, &b.mrseam}},
      {"MRSIGNERSEAM", {&r.mrsignerseam, &b.mrsignerseam}},
      {"SEAMATTRIBUTES", {&r.seam_attributes, &b.seam_attributes}},
      {"TDATTRIBUTES", {&r.td_attributes, &b.td_attributes}},
      {"XFAM", {&r.xfam, &b.xfam}},
      {"MRTD", {&r.mrtd, &b.mrtd}},
      {"MRCONFIGID", {&r.mrconfigid, &b.mrconfigid}},
      {"MROWNER", {&r.mrowner, &b.mrowner}},
      {"MROWNERCONFIG", {&r.mrownerconfig, &b.mrownerconfig}},
      {"RTMR0", {&r.rtmr[0], &b.rtmr[0]}},
      {"RTMR1", {&r.rtmr[1], &b.rtmr[1]}},
      {"RTMR2", {&r.rtmr[2], &b.rtmr[2]}},
      {"RTMR3", {&r.rtmr[3], &b.rtmr[3]}},
      {"REPORTDATA", {&r.report_data, &b.report_data}},
  };
  std::vector<std::string> out;
  for (const auto& [name, pair] : fields) {
    if (*pair.first != *pair.second) {
      out.push_back(std::string("the TD quote's ") + name +
                    " differs from the TDREPORT's: the quote does not cover this report");
    }
  }
  if (b.tee_tcb_svn2 && *b.tee_tcb_svn2 != r.tee_tcb_svn2) {
    out.push_back("the TD quote's TEE_TCB_SVN2 differs from the TDREPORT's");
  }
  if (b.mrservicetd && *b.mrservicetd != r.servtd_hash) {
    out.push_back("the TD quote's MRSERVICETD differs from the TDREPORT's SERVTD_HASH");
  }
  return out;
}

Result<Collateral> FetchCollateralForQuote(HttpClient& http, const Quote& quote,
                                           const PcsOptions& options) {
  auto certs = ParseCertificates(quote.certification.pck_cert_data);
  if (!certs.ok()) return certs.status().WithContext("tdx quote: pck certificate chain");
  if (certs->empty()) return InvalidInput("tdx quote: no PCK certificate");
  CVM_ASSIGN_OR_RETURN(PckExtensions ext, PckExtensionsOf((*certs)[0]));
  return FetchCollateral(http, (*certs)[0], ext, options);
}

Result<Appraisal> Appraise(ByteSpan quote_bytes, const AppraiseOptions& options,
                           const Clock& clock) {
  const TimePoint at = clock.Now();
  if (options.signature_only && options.collateral) {
    return InvalidInput("collateral given for a signature-only check: use one or the other");
  }
  CVM_ASSIGN_OR_RETURN(Quote quote, ParseQuote(quote_bytes));
  log::Debug("tdx: parsed a version " + std::to_string(quote.header.version) + " quote (" +
             std::to_string(quote.size) + " bytes)");
  Appraisal out;
  Verdict& v = out.verdict;
  v.tee = "tdx";
  v.product = "TDX";
  v.measurement = HexEncode(quote.body.mrtd);
  v.report_data = HexEncode(quote.body.report_data);
  v.report = QuoteToJson(quote);
  v.details["collateral"] = "none";

  // 2. Collateral: given, fetched, or (signature-only) none.
  std::optional<Collateral> raw = options.collateral;
  if (!raw && !options.signature_only) {
    if (options.pcs == nullptr) {
      return InvalidInput(
          "no collateral: collateral is required for a TDX quote's TCB status and revocation "
          "(give it, fetch it from Intel PCS or a PCCS, or accept a signature-only check)");
    }
    log::Debug("tdx: fetching collateral from " + options.pcs_options.base_url);
    auto fetched = FetchCollateralForQuote(*options.pcs, quote, options.pcs_options);
    if (!fetched.ok()) {
      return fetched.status().WithContext("fetching collateral from " +
                                          options.pcs_options.base_url);
    }
    raw = std::move(*fetched);
    v.details["collateral"] = "fetched from " + options.pcs_options.base_url;
  } else if (raw) {
    v.details["collateral"] = "given";
  }

  // 3. The collateral itself.
  QuoteVerifyOptions vo;
  vo.roots = options.roots;
  vo.at = at;
  vo.crls = options.crls;
  vo.chain_cache = options.chain_cache;
  std::optional<VerifiedCollateral> collateral;
  const std::string root =
      options.roots.empty() ? "Intel SGX Root CA (built in)" : options.roots.front().Subject();
  if (raw) {
    log::Debug("tdx: verifying collateral (issuer chains to " + root +
               ", CRLs, TCB info and QE "
               "identity signatures, freshness at " +
               FormatTime(at) + ")");
    auto vc = VerifyCollateral(*raw, options.roots, at);
    if (!vc.ok() && vc.status().code() != Code::kRejected) return vc.status();
    if (!vc.ok()) {
      log::Debug("tdx: collateral rejected: " + vc.status().ToString());
      v.Reject(vc.status().ToString());
      v.Finish();
      return out;
    }
    v.checks.push_back("collateral: issuer chains to " + root + ", CRLs, signatures, current at " +
                       FormatTime(at));
    vo.crls.insert(vo.crls.end(), vc->crls.begin(), vc->crls.end());
    collateral = std::move(*vc);
  }

  // 4. The quote's signatures and PCK chain.
  log::Debug("tdx: verifying the PCK chain to " + root + " with " + std::to_string(vo.crls.size()) +
             " CRL(s), the QE report signature and the quote signature");
  auto verified = VerifyQuote(quote, vo);
  if (!verified.ok() && verified.status().code() != Code::kRejected) return verified.status();
  if (!verified.ok()) {
    log::Debug("tdx: quote rejected: " + verified.status().ToString());
    v.Reject(verified.status().ToString());
    v.Finish();
    out.quote = std::move(quote);
    return out;
  }
  v.checks.push_back(
      "PCK certificate chain to " + root + " at " + FormatTime(at) +
      (vo.crls.empty() ? "" : ", against " + std::to_string(vo.crls.size()) + " CRL(s)"));
  v.checks.push_back(
      "QE report signature by the PCK key; QE report data binds the attestation key");
  v.checks.push_back("quote signature by the attestation key (ECDSA P-256)");
  v.details["fmspc"] = HexEncode(verified->pck_extensions.fmspc);
  v.details["pce_svn"] = verified->pck_extensions.pce_svn;
  v.details["qe_svn"] = quote.certification.qe_report.isv_svn;

  // 5. The TCB level.
  std::optional<TcbEvaluation> tcb;
  if (collateral) {
    auto e = EvaluateTcb(quote, verified->pck_extensions, *collateral);
    if (!e.ok() && e.status().code() != Code::kRejected) return e.status();
    if (!e.ok()) {
      log::Debug("tdx: TCB evaluation rejected: " + e.status().ToString());
      v.Reject(e.status().ToString());
      v.Finish();
      out.quote = std::move(quote);
      out.verified = std::move(*verified);
      return out;
    }
    tcb = std::move(*e);
    log::Debug("tdx: TCB status " + std::string(TcbStatusName(tcb->status)) + " (platform " +
               std::string(TcbStatusName(tcb->platform_status)) + ", QE " +
               std::string(TcbStatusName(tcb->qe_status)) + ") for FMSPC " +
               HexEncode(verified->pck_extensions.fmspc));
    v.checks.push_back("TCB level against the TCB info and QE identity: " +
                       std::string(TcbStatusName(tcb->status)));
    v.tcb = std::string(TcbStatusName(tcb->status)) + " (tee_tcb_svn " +
            HexEncode(quote.body.tee_tcb_svn) + ")";
    v.details["tcb_status"] = std::string(TcbStatusName(tcb->status));
    v.details["advisory_ids"] = tcb->advisory_ids;
    v.details["tcb_date"] = tcb->tcb_date;
    v.details["qe_tcb_status"] = std::string(TcbStatusName(tcb->qe_status));
  } else {
    v.tcb = "not evaluated (tee_tcb_svn " + HexEncode(quote.body.tee_tcb_svn) + ")";
    v.details["tcb_status"] = nullptr;
    v.details["advisory_ids"] = nullptr;
    v.notes.push_back("TCB status and PCK revocation not evaluated: signature only, no collateral");
  }
  v.genuine = true;

  // 6. Validation: every violation.
  for (auto& violation :
       QuoteViolations(quote, &verified->pck_extensions, tcb ? &*tcb : nullptr, options.expected)) {
    log::Debug("tdx: violation: " + violation);
    v.Reject(std::move(violation));
  }
  v.checks.push_back(std::string("expected values (DEBUG attribute ") +
                     (options.expected.allow_debug ? "allowed" : "refused") + ")");
  if (options.expected.allow_debug && (quote.body.TdAttributes() & kTdAttrDebug) != 0) {
    v.notes.push_back("the TD has the DEBUG attribute (the host can read its memory)");
  }
  out.quote = std::move(quote);
  out.verified = std::move(*verified);
  out.tcb = std::move(tcb);
  v.Finish();
  log::Debug(std::string("tdx: ") + (v.verified ? "verified" : "not verified"));
  return out;
}

}  // namespace cvm::tdx
