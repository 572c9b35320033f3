// Azure confidential VMs (az-snp-vtpm, az-tdx-vtpm): the HCL report through the tpm library,
// its hardware report through appraise_snp / appraise_tdx, the TD quote's binding of the HCL's
// TDREPORT, and the vTPM quote against the HCL's AK.
#include <algorithm>

#include "common/keys.h"
#include "evidence/appraise.h"
#include "tdx/report.h"
#include "tpm/hcl.h"

namespace cvm::evidence::internal {
namespace {

// The TD quote covers the TDREPORT the HCL holds when every field the quote body copies from
// it is equal (the quoting enclave checks the TDREPORT's MAC before it signs these fields).
void CompareTdReport(const tdx::TdReport& r, const tdx::TdQuoteBody& b, Appraisal& a) {
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
  for (const auto& [name, pair] : fields) {
    if (*pair.first != *pair.second) {
      a.reasons.push_back(std::string("az-tdx-vtpm: the TD quote's ") + name +
                          " differs from the HCL's TDREPORT: the quote does not bind this report");
    }
  }
  if (b.tee_tcb_svn2 && *b.tee_tcb_svn2 != r.tee_tcb_svn2) {
    a.reasons.push_back("az-tdx-vtpm: the TD quote's TEE_TCB_SVN2 differs from the TDREPORT");
  }
  if (b.mrservicetd && *b.mrservicetd != r.servtd_hash) {
    a.reasons.push_back("az-tdx-vtpm: the TD quote's MRSERVICETD differs from the TDREPORT");
  }
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
  if (snp) {
    if (!bundle.td_quote.empty()) a.reasons.push_back("az-snp-vtpm: a TD quote does not belong");
    AppraiseSnp(hcl->hardware_report, bundle.certs, options, a);
  } else {
    auto report = tdx::ParseTdReport(hcl->hardware_report);
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
    if (quote) CompareTdReport(*report, quote->body, a);
  }
  Status binding = tpm::VerifyHclBinding(*hcl);
  if (!binding.ok()) a.reasons.push_back("hcl report: " + binding.message());

  if (!bundle.tpm) {
    // Trustee's Azure evidence and our bundles always carry it (ParseBundle requires it); a
    // caller checking an HCL report alone (cvmctl verify HCL --td-quote Q) has none.
    if (options.require_tpm) {
      a.reasons.push_back("azure: the vTPM quote is missing");
    } else {
      a.notes.push_back("azure: no vTPM quote: only the hardware report and HCL claims checked");
    }
    return;
  }
  if (!bundle.tpm->ak_public.empty()) {
    auto ours = PublicKeyToDer(hcl->ak_pub.get());
    if (!ours.ok() || *ours != bundle.tpm->ak_public) {
      a.reasons.push_back("azure: tpm.ak-public is not the HCL's HCLAkPub");
    }
  }
  AppraiseTpm(*bundle.tpm, hcl->ak_pub.get(), expected_nonce, a);
  if (expected_nonce) {
    if (bundle.azure_evidence_version >= 2) {
      const auto& ud = hcl->user_data;
      if (!ud || ud->size() < expected_nonce->size() ||
          !std::equal(expected_nonce->begin(), expected_nonce->end(), ud->begin())) {
        a.reasons.push_back("hcl report: user-data does not start with the runtime data digest");
      }
    } else {
      a.notes.push_back("hcl report: user-data binding not checked (Azure evidence version " +
                        std::to_string(bundle.azure_evidence_version) + ")");
    }
  }
}

}  // namespace cvm::evidence::internal
