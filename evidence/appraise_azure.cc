// Azure confidential VMs (az-snp-vtpm, az-tdx-vtpm). az-snp-vtpm goes through
// tpm::AppraiseAzureHcl (the SNP report, the HCL's claims binding and the vTPM quote against
// HCLAkPub). az-tdx-vtpm, whose TDREPORT is MAC'ed rather than signed, goes through the TD quote
// (tdx::Appraise), tdx::TdReportMismatches, the HCL binding and tpm::AppraiseQuote.
#include <algorithm>

#include "common/clock.h"
#include "common/keys.h"
#include "evidence/appraise.h"
#include "tdx/appraise.h"
#include "tdx/report.h"
#include "tpm/appraise.h"
#include "tpm/hcl.h"

namespace cvm::evidence::internal {
namespace {

// AppraiseAzureHcl names the step of each reason and note ("SNP report: ", "HCL report: ",
// "TPM quote: "); the bundle's verdict uses the names of its own parts.
std::string Rename(const std::string& text) {
  static const std::pair<const char*, const char*> kSteps[] = {
      {"SNP report: ", "snp: "}, {"HCL report: ", "hcl report: "}, {"TPM quote: ", "tpm quote: "}};
  for (const auto& [from, to] : kSteps) {
    if (text.rfind(from, 0) == 0) return to + text.substr(std::char_traits<char>::length(from));
  }
  return "az-snp-vtpm: " + text;
}

// The bundle's AK (if it names one) must be the HCL's.
void CheckAkPublic(const TpmEvidence& tpm_ev, const tpm::HclReport& hcl, Appraisal& a) {
  if (tpm_ev.ak_public.empty()) return;
  auto ours = PublicKeyToDer(hcl.ak_pub.get());
  if (!ours.ok() || *ours != tpm_ev.ak_public) {
    a.reasons.push_back("azure: tpm.ak-public is not the HCL's HCLAkPub");
  }
}

// Version 2 evidence also binds the nonce in the HCL's user data.
void CheckUserData(const Bundle& bundle, const tpm::HclReport& hcl,
                   const std::optional<Bytes>& expected_nonce, Appraisal& a) {
  if (!expected_nonce || !bundle.tpm) return;
  if (bundle.azure_evidence_version >= 2) {
    const auto& ud = hcl.user_data;
    if (!ud || ud->size() < expected_nonce->size() ||
        !std::equal(expected_nonce->begin(), expected_nonce->end(), ud->begin())) {
      a.reasons.push_back("hcl report: user-data does not start with the runtime data digest");
    }
  } else {
    a.notes.push_back("hcl report: user-data binding not checked (Azure evidence version " +
                      std::to_string(bundle.azure_evidence_version) + ")");
  }
}

void AppraiseAzSnp(const Bundle& bundle, const tpm::HclReport& hcl,
                   const BundleVerifyOptions& options, const std::optional<Bytes>& expected_nonce,
                   Appraisal& a) {
  if (!bundle.td_quote.empty()) a.reasons.push_back("az-snp-vtpm: a TD quote does not belong");
  std::optional<snp::KdsClient> kds;
  auto snp_options = SnpOptions(bundle.certs, options, kds, a);
  if (!snp_options) return;
  tpm::AzureAppraiseOptions o;
  o.snp = std::move(*snp_options);
  std::optional<tcg::EventLog> log;
  if (bundle.tpm) {
    CheckAkPublic(*bundle.tpm, hcl, a);
    auto sig = tpm::ParseTpmSignature(bundle.tpm->signature);
    if (!sig.ok()) {
      a.reasons.push_back("tpm signature: " + sig.status().ToString());
      return;
    }
    o.tpm_quote = tpm::AzureTpmQuote{bundle.tpm->attest, *sig, bundle.tpm->pcrs};
    o.ak_public_area = bundle.tpm->ak_public_area;
    if (expected_nonce && !expected_nonce->empty()) {
      o.nonce = *expected_nonce;
    } else {
      o.ignore_nonce = true;
    }
    if (!bundle.tpm->event_log.empty()) {
      auto parsed = tcg::ParseEventLog(bundle.tpm->event_log);
      if (!parsed.ok()) {
        a.reasons.push_back("tpm event log: " + parsed.status().ToString());
      } else {
        log = std::move(*parsed);
        o.event_log = &*log;
      }
    }
  }
  auto appraisal = tpm::AppraiseAzureHcl(bundle.report, o, FixedClock(options.at));
  if (!appraisal.ok()) {
    a.reasons.push_back("az-snp-vtpm: " + appraisal.status().ToString());
    return;
  }
  for (const auto& r : appraisal->verdict.reasons) a.reasons.push_back(Rename(r));
  for (const auto& n : appraisal->verdict.notes) a.notes.push_back(Rename(n));
  if (appraisal->snp.verified) SnpClaims(*appraisal->snp.verified, options, a.claims);
  if (appraisal->tpm_quote) a.claims.pcrs = bundle.tpm->pcrs;
}

void AppraiseAzTdx(const Bundle& bundle, const tpm::HclReport& hcl,
                   const BundleVerifyOptions& options, const std::optional<Bytes>& expected_nonce,
                   Appraisal& a) {
  auto report = tdx::ParseTdReport(hcl.hardware_report);
  if (!report.ok()) {
    a.reasons.push_back("hcl TDREPORT: " + report.status().ToString());
    return;
  }
  Status hashes = tdx::CheckTdReportHashes(*report);
  if (!hashes.ok()) a.reasons.push_back("hcl TDREPORT: " + hashes.message());
  if (bundle.td_quote.empty()) {
    a.reasons.push_back("az-tdx-vtpm: no TD quote, so the HCL's TDREPORT is not verifiable");
    return;
  }
  auto quote = AppraiseTdx(bundle.td_quote, bundle.collateral, options, a);
  if (quote) {
    for (const auto& m : tdx::TdReportMismatches(*report, quote->body)) {
      a.reasons.push_back("az-tdx-vtpm: " + m);
    }
  }
  Status binding = tpm::VerifyHclBinding(hcl);
  if (!binding.ok()) a.reasons.push_back("hcl report: " + binding.message());
  if (!bundle.tpm) {
    a.notes.push_back("azure: no vTPM quote: only the hardware report and HCL claims checked");
    return;
  }
  CheckAkPublic(*bundle.tpm, hcl, a);
  AppraiseTpm(*bundle.tpm, hcl.ak_pub.get(), expected_nonce, a);
}

}  // namespace

void AppraiseAzure(const Bundle& bundle, const BundleVerifyOptions& options,
                   const std::optional<Bytes>& expected_nonce, Appraisal& a) {
  const bool snp = bundle.tee == TeeKind::kAzSnpVtpm;
  auto hcl = tpm::ParseHclReport(bundle.report);
  if (!hcl.ok()) {
    a.reasons.push_back("hcl report: " + hcl.status().ToString());
    return;
  }
  if ((hcl->type == tpm::HclReportType::kSnp) != snp) {
    a.reasons.push_back(std::string("hcl report: holds a ") + tpm::HclReportTypeName(hcl->type) +
                        " report, not what " + std::string(TeeKindName(bundle.tee)) + " carries");
    return;
  }
  // Trustee's Azure evidence and our bundles always carry the vTPM quote (ParseBundle requires
  // it); a caller checking an HCL report alone (cvmctl verify HCL --td-quote Q) has none.
  if (!bundle.tpm && options.require_tpm) a.reasons.push_back("azure: the vTPM quote is missing");
  if (snp) {
    AppraiseAzSnp(bundle, *hcl, options, expected_nonce, a);
  } else {
    AppraiseAzTdx(bundle, *hcl, options, expected_nonce, a);
  }
  CheckUserData(bundle, *hcl, expected_nonce, a);
}

}  // namespace cvm::evidence::internal
