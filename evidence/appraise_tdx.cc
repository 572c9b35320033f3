// TDX hardware evidence through tdx::Appraise, the one TDX entry every front door uses, and the
// CCEL replay.
#include "common/clock.h"
#include "evidence/appraise.h"
#include "tdx/appraise.h"
#include "tdx/ccel.h"
#include "tdx/roots.h"

namespace cvm::evidence::internal {

std::optional<tdx::Quote> AppraiseTdx(ByteSpan quote_bytes, const std::string& bundle_collateral,
                                      const BundleVerifyOptions& options, Appraisal& a) {
  tdx::AppraiseOptions o;
  o.roots = options.tdx_roots;
  o.crls = options.crls;
  o.chain_cache = options.chain_cache;
  o.expected.allow_debug = options.allow_debug;
  const std::string& text = !bundle_collateral.empty() ? bundle_collateral : options.collateral;
  if (!text.empty()) {
    auto c = tdx::ParseCollateral(text);
    if (!c.ok()) {
      a.reasons.push_back("tdx collateral: " + c.status().ToString());
      return std::nullopt;
    }
    o.collateral = std::move(*c);
  } else if (options.tdx_signature_only) {
    o.signature_only = true;
  } else {
    o.pcs = options.http;
  }
  auto appraisal = tdx::Appraise(quote_bytes, o, FixedClock(options.at));
  if (!appraisal.ok()) {
    a.reasons.push_back("tdx: " + appraisal.status().ToString());
    return std::nullopt;
  }
  const Verdict& v = appraisal->verdict;
  AddVerdict(v, "tdx: ", a);
  const auto& source = v.details["collateral"];
  if (source.is_string() && source.get<std::string>().rfind("fetched", 0) == 0) {
    a.notes.push_back("tdx: collateral " + source.get<std::string>());
  }
  if (!v.genuine || !appraisal->quote) return std::nullopt;

  const tdx::Quote& quote = *appraisal->quote;
  const tdx::TdQuoteBody& b = quote.body;
  Claims& c = a.claims;
  c.debug = (b.TdAttributes() & tdx::kTdAttrDebug) != 0;
  c.product = v.product;
  c.measurement = b.mrtd;
  c.rtmrs.assign(b.rtmr.begin(), b.rtmr.end());
  c.host_data = b.mrconfigid;
  c.report_data = b.report_data;
  c.mrowner = b.mrowner;
  c.mrownerconfig = b.mrownerconfig;
  c.mrseam = b.mrseam;
  if (appraisal->tcb) {
    c.tcb_status = std::string(tdx::TcbStatusName(appraisal->tcb->status));
    c.advisories = appraisal->tcb->advisory_ids;
  }
  if (!options.tdx_roots.empty()) {
    bool builtin = false;
    for (const auto& r : options.tdx_roots) {
      builtin |= r.Fingerprint(DigestAlg::kSha256) ==
                 tdx::IntelSgxRootCa().Fingerprint(DigestAlg::kSha256);
    }
    c.simulated_root = !builtin;
  }
  return std::move(appraisal->quote);
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
