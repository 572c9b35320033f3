// Private to evidence/: the appraisal of each piece of hardware evidence, one file per TEE
// (appraise_snp.cc, appraise_tdx.cc, appraise_tpm.cc, appraise_azure.cc). Each is a thin
// adapter over the TEE library's one unified entry (snp::Appraise, tdx::Appraise,
// tpm::AppraiseQuote, tpm::AppraiseAzureHcl), so every default (DEBUG / MIGRATE_MA refused,
// product contradiction, CRLs, TDX collateral required, PCRs outside the quoted selection
// refused) is decided by the library exactly as for `cvmctl verify` and the relying party.
// These files only translate the bundle's options into the library's, the library's Verdict
// into reasons and notes (prefixed with the part of the evidence they concern) and the decoded
// evidence into Claims.
//
// Every function appends one sentence per problem to `a.reasons` and per unchecked item to
// `a.notes`, and fills the claims it establishes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/ossl.h"
#include "common/verdict.h"
#include "evidence/bundle.h"
#include "snp/appraise.h"
#include "snp/report.h"
#include "tdx/quote.h"

namespace cvm::evidence::internal {

struct Appraisal {
  std::vector<std::string> reasons;
  std::vector<std::string> notes;
  Claims claims;
};

// Appends the verdict's reasons and notes, each prefixed with `prefix` (e.g. "snp: ").
void AddVerdict(const Verdict& verdict, const std::string& prefix, Appraisal& a);

// snp::Appraise's options for a bundle: the bundle's certificates (else fetched through
// options.http from AMD KDS by `kds`, which must outlive their use), options' roots and CRLs,
// and the library's default expectations with options.allow_debug. A certificate that does not
// parse is a reason (nullopt).
std::optional<snp::AppraiseOptions> SnpOptions(const std::vector<Bytes>& certs,
                                               const BundleVerifyOptions& options,
                                               std::optional<snp::KdsClient>& kds, Appraisal& a);
// The SNP claims of a report snp::Appraise found genuine.
void SnpClaims(const snp::VerifiedReport& verified, const BundleVerifyOptions& options, Claims& c);

// SNP: snp::Appraise of the report. Fills the SNP claims. Returns the report when it is genuine
// (its reasons, if any, are already in `a`).
std::optional<snp::Report> AppraiseSnp(ByteSpan report, const std::vector<Bytes>& certs,
                                       const BundleVerifyOptions& options, Appraisal& a);

// TDX: tdx::Appraise of the quote with the bundle's collateral (else options.collateral, else
// fetched through options.http; required unless options.tdx_signature_only). Fills the TDX
// claims. Returns the quote when it is genuine.
std::optional<tdx::Quote> AppraiseTdx(ByteSpan quote, const std::string& bundle_collateral,
                                      const BundleVerifyOptions& options, Appraisal& a);
// The CCEL log replayed against the quote's RTMRs.
void AppraiseCcel(ByteSpan ccel, const tdx::TdQuoteBody& body, Appraisal& a);

// TPM: tpm::AppraiseQuote with `ak` (from tpm.ak_public when null), tpm.ak_public_area (the
// qualifiedSigner check), `expected_nonce` (nullopt: ignored, which the library notes) and the
// event log. Verification reasons are prefixed "tpm quote: ", the event log's "tpm event log: ".
// Fills claims.pcrs with the quoted PCRs (the library refuses any others).
void AppraiseTpm(const TpmEvidence& tpm, const EVP_PKEY* ak,
                 const std::optional<Bytes>& expected_nonce, Appraisal& a);

// Azure vTPM kinds. az-snp-vtpm: tpm::AppraiseAzureHcl (SNP report, claims binding, the vTPM
// quote against HCLAkPub with `expected_nonce`, the AK public area and the event log).
// az-tdx-vtpm (which AppraiseAzureHcl does not take: its TDREPORT is not signed): the TD quote
// through AppraiseTdx, tdx::TdReportMismatches against the HCL's TDREPORT, the HCL binding and
// AppraiseTpm with HCLAkPub. Version 2 evidence: the HCL user-data must start with the nonce.
void AppraiseAzure(const Bundle& bundle, const BundleVerifyOptions& options,
                   const std::optional<Bytes>& expected_nonce, Appraisal& a);

// GPUs (appraise_gpu.cc): finds the "nvidia" entry of the runtime data's additional evidence,
// verifies every GPU with gpu::VerifyNvidiaEvidence against the nonce the runtime data gives
// (H(JCS(runtime data without additional-evidence)) truncated to 32 bytes), adds each GPU's
// reasons as "gpu<i>: ..." and fills claims.gpus. Without GPU evidence: a reason when
// options.require_gpus, nothing otherwise.
void AppraiseGpus(const Bundle& bundle, const BundleVerifyOptions& options, Appraisal& a);

// The "nvidia" entry of a runtime data's additional evidence (its JSON text), nullopt when there
// is none. kInvalidInput when additional-evidence is not a string holding a JSON object.
Result<std::optional<std::string>> NvidiaEvidenceOf(const nlohmann::json& runtime_data);

}  // namespace cvm::evidence::internal
