// The one result of appraising attestation evidence, whatever the TEE: snp::Appraise,
// tdx::Appraise, tpm::AppraiseAzureHcl and tpm::AppraiseQuote all return a Verdict, so the CLI,
// the evidence bundle and the relying party agree on what "verified" means and print it the same
// way.
//
// Appraisal = verification (is the evidence genuine: signatures, chains, revocation, TCB) then
// validation (is it what we expected: measurements, policy bits, nonces). A Verdict is produced
// whenever the evidence could be examined; evidence that cannot be examined at all (malformed
// bytes, missing certificates, a service that did not answer) is a Status error instead.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cvm {

struct Verdict {
  // The evidence is genuine and meets every expectation: genuine && reasons.empty(). Set by
  // Finish(); never true while a reason is listed.
  bool verified = false;
  // Verification held: signatures, certificate chains, revocation and TCB checks passed. False
  // when the evidence is forged, revoked or out of date (the first such reason says why).
  bool genuine = false;
  // "snp", "tdx", "az-snp-vtpm" or "tpm".
  std::string tee;
  // Every reason the evidence is not verified, one sentence each: the verification failure
  // first (at most one: verification stops at the first), then every validation violation.
  std::vector<std::string> reasons;
  // What was checked, in order, e.g. "report signature by the VCEK (ECDSA P-384)".
  std::vector<std::string> checks;
  // What was deliberately not checked and why, e.g. "TCB status not evaluated: signature-only
  // check without collateral". A note never makes a verdict fail; it tells the reader what the
  // verdict does not cover.
  std::vector<std::string> notes;
  // Summary fields for display; empty when not applicable or not known.
  std::string product;      // "Milan", "Genoa", "Turin"; "TDX"; the TPM's AK type
  std::string tcb;          // SNP: REPORTED_TCB decoded; TDX: the TCB status and TEE_TCB_SVN
  std::string measurement;  // hex: SNP MEASUREMENT, TDX MRTD, TPM PCR digest
  std::string report_data;  // hex: REPORT_DATA, REPORTDATA or the quote's extraData
  // Facts established by the appraisal, per TEE (e.g. "tcb_status", "advisory_ids", "fmspc",
  // "pcr_selection", "claims_binding"). Always an object.
  nlohmann::ordered_json details = nlohmann::ordered_json::object();
  // The decoded evidence (as `cvmctl report show --json` prints it); null when not decoded.
  nlohmann::ordered_json report;

  // Adds a reason (the evidence will not be verified).
  void Reject(std::string reason) { reasons.push_back(std::move(reason)); }
  // Sets `verified` from `genuine` and `reasons`. Call once every check has run.
  void Finish() { verified = genuine && reasons.empty(); }
};

// {"verified", "tee", "genuine", "reasons", "checks", "notes", "product", "tcb", "measurement",
//  "report_data", "details", "report"}: every key always present, in this order.
nlohmann::ordered_json VerdictToJson(const Verdict& verdict);

// A few readable lines, the same shape for every TEE:
//   verified: AMD SEV-SNP report (Genoa)          or  REJECTED: ...
//   tcb: bootloader=... / measurement: ... / report_data: ...
//   reason: ... (each) / note: ... (each)
std::string VerdictSummary(const Verdict& verdict);

// The TEE's display name: "AMD SEV-SNP report", "Intel TDX quote", "Azure HCL report (SEV-SNP)",
// "TPM quote"; the tee string itself when unknown.
std::string TeeDisplayName(const std::string& tee);

}  // namespace cvm
