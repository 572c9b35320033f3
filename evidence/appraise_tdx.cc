// TDX hardware evidence through the tdx library's verification, collateral and validation
// entries, and the CCEL replay.
#include "evidence/appraise.h"
#include "tdx/ccel.h"
#include "tdx/collateral.h"
#include "tdx/tcb.h"
#include "tdx/pcs.h"
#include "tdx/roots.h"
#include "tdx/validate.h"
#include "tdx/verify.h"

namespace cvm::evidence::internal {

std::optional<tdx::Quote> AppraiseTdx(ByteSpan quote_bytes, const std::string& bundle_collateral,
                                      const BundleVerifyOptions& options, Appraisal& a) {
  auto quote = tdx::ParseQuote(quote_bytes);
  if (!quote.ok()) {
    a.reasons.push_back("tdx quote: " + quote.status().ToString());
    return std::nullopt;
  }
  tdx::QuoteVerifyOptions qo;
  qo.roots = options.tdx_roots;
  qo.at = options.at;
  qo.crls = options.crls;
  // The PCK certificate is needed to fetch collateral; verify once without CRLs only to find it.
  std::optional<tdx::Collateral> collateral;
  const std::string& text = !bundle_collateral.empty() ? bundle_collateral : options.collateral;
  if (!text.empty()) {
    auto c = tdx::ParseCollateral(text);
    if (!c.ok()) {
      a.reasons.push_back("tdx collateral: " + c.status().ToString());
      return std::nullopt;
    }
    collateral = std::move(*c);
  }
  std::optional<tdx::VerifiedCollateral> vc;
  if (!collateral && options.http != nullptr && !options.tdx_signature_only) {
    auto pre = tdx::VerifyQuote(*quote, qo);
    if (!pre.ok()) {
      a.reasons.push_back("tdx: " + pre.status().message());
      return std::nullopt;
    }
    auto fetched = tdx::FetchCollateral(*options.http, pre->pck, pre->pck_extensions);
    if (!fetched.ok()) {
      a.reasons.push_back("tdx: fetching collateral: " + fetched.status().ToString());
      return std::nullopt;
    }
    collateral = std::move(*fetched);
    a.notes.push_back("tdx: collateral fetched from Intel PCS");
  }
  if (collateral) {
    auto v = tdx::VerifyCollateral(*collateral, options.tdx_roots, options.at);
    if (!v.ok()) {
      a.reasons.push_back("tdx: " + v.status().message());
      return std::nullopt;
    }
    qo.crls.insert(qo.crls.end(), v->crls.begin(), v->crls.end());
    vc = std::move(*v);
  } else if (options.tdx_signature_only) {
    a.notes.push_back("tdx: signature only: no collateral, so the TCB status was not evaluated");
  } else {
    a.reasons.push_back(
        "tdx: collateral is required to evaluate the TCB (none in the bundle, none configured, "
        "no HTTP client to fetch it; signature-only verification must be asked for)");
    return std::nullopt;
  }
  auto verified = tdx::VerifyQuote(*quote, qo);
  if (!verified.ok()) {
    a.reasons.push_back("tdx: " + verified.status().message());
    return std::nullopt;
  }
  std::optional<tdx::TcbEvaluation> tcb;
  if (vc) {
    auto e = tdx::EvaluateTcb(*quote, verified->pck_extensions, *vc);
    if (!e.ok()) {
      a.reasons.push_back("tdx: " + e.status().message());
      return std::nullopt;
    }
    tcb = std::move(*e);
  }
  tdx::ValidateOptions val;  // no expected values; debug refused unless allowed
  val.allow_debug = options.allow_debug;
  for (auto& v :
       tdx::QuoteViolations(*quote, &verified->pck_extensions, tcb ? &*tcb : nullptr, val)) {
    a.reasons.push_back("tdx: " + v);
  }

  const tdx::TdQuoteBody& b = quote->body;
  Claims& c = a.claims;
  c.debug = (b.TdAttributes() & tdx::kTdAttrDebug) != 0;
  c.product = "TDX";
  c.measurement = b.mrtd;
  c.rtmrs.assign(b.rtmr.begin(), b.rtmr.end());
  c.host_data = b.mrconfigid;
  c.report_data = b.report_data;
  c.mrowner = b.mrowner;
  c.mrownerconfig = b.mrownerconfig;
  c.mrseam = b.mrseam;
  if (tcb) {
    c.tcb_status = std::string(tdx::TcbStatusName(tcb->status));
    c.advisories = tcb->advisory_ids;
  }
  if (!options.tdx_roots.empty()) {
    bool builtin = false;
    for (const auto& r : options.tdx_roots) {
      builtin |= r.Fingerprint(DigestAlg::kSha256) ==
                 tdx::IntelSgxRootCa().Fingerprint(DigestAlg::kSha256);
    }
    c.simulated_root = !builtin;
  }
  return std::move(*quote);
}

void AppraiseCcel(ByteSpan ccel, const tdx::TdQuoteBody& body, Appraisal& a) {
  auto replay = tdx::ReplayCcel(ccel);
  if (!replay.ok()) {
    a.reasons.push_back("ccel: " + replay.status().ToString());
    return;
  }
  Status s = tdx::CompareWithQuote(*replay, body);
  if (!s.ok()) a.reasons.push_back("ccel: " + s.message());
}

}  // namespace cvm::evidence::internal
