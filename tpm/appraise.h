// Appraising TPM evidence: a TPM2_Quote with its PCR values (and event log), and Azure's HCL
// report with its TPM quote. The one entry point per kind of evidence that every front door
// (cvmctl, the evidence bundle, the relying party) uses; each returns a Verdict
// (common/verdict.h) with every reason.
#pragma once

#include <optional>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/ossl.h"
#include "common/tcg_eventlog.h"
#include "common/verdict.h"
#include "snp/appraise.h"
#include "tpm/attest.h"
#include "tpm/hcl.h"
#include "tpm/pcr.h"

namespace cvm::tpm {

struct QuoteAppraiseOptions {
  // REQUIRED: the nonce the quote's extraData must equal (empty: kInvalidInput; a quote is only
  // fresh if it carries the verifier's nonce) unless ignore_nonce.
  Bytes nonce;
  // Accept any extraData (examining evidence whose nonce is not known); the verdict notes that
  // the quote may be a replay. kInvalidInput together with a nonce.
  bool ignore_nonce = false;
  // The AK's TPM2B_PUBLIC (as TPM2_ReadPublic returns it). Empty: qualifiedSigner is not
  // compared, and the verdict notes it. Otherwise it must hold `ak` and describe a restricted
  // signing key fixed to its TPM, and the quote's qualifiedSigner must be a name of its name
  // algorithm: the AK's name, or its qualified name as a primary key (cvm-agent's AKs); for a
  // descendant key (parents unknown) the verdict says it was not compared. A failure is a
  // verification reason (not genuine). Malformed bytes are a reason too.
  Bytes ak_public_area;
  // Expected PCR values. Empty: not checked. Every PCR named must be inside the quoted selection
  // (a PCR the quote does not cover proves nothing) and have that value.
  std::optional<PcrValues> expected_pcrs;
  // The measured-boot event log to check the quoted PCRs against. nullptr: not checked. Every
  // PCR the log extends, in every quoted bank, must be inside the quoted selection, and every
  // quoted PCR must equal the log's replay (eventlog.h). Must outlive the call.
  const tcg::EventLog* event_log = nullptr;
};

struct QuoteAppraisal {
  Verdict verdict;               // tee "tpm"
  std::optional<Attest> attest;  // set when verification held
};

// Appraises a quote. Steps, each logged at debug level:
//  1. verification (attest.h VerifyQuote): AK signature, structure, extraData == nonce (unless
//     ignore_nonce), and `pcrs` are exactly the quoted selection and digest to its pcrDigest
//     (values outside the selection are refused); then the AK public area (the AK, an
//     attestation key, qualifiedSigner its (qualified) name). kRejected is a reason (not genuine);
//     malformed input the Status;
//  2. expected PCRs: each inside the selection and equal (every violation a reason);
//  3. event log: the PCRs it extends inside the selection, then replay == quoted values.
// Reasons of step 1 leave the verdict not genuine; reasons of steps 2 and 3 are validation
// reasons of a genuine verdict. The verdict carries the PCR digest as measurement, the nonce
// (the quote's extraData with ignore_nonce) as report_data and details {"pcr_selection", "pcrs",
// "qualified_signer_checked"}.
Result<QuoteAppraisal> AppraiseQuote(const EVP_PKEY* ak, ByteSpan attest,
                                     const TpmSignature& signature, const PcrValues& pcrs,
                                     const QuoteAppraiseOptions& options);

struct AzureAppraiseOptions {
  // The hardware (SNP) report's appraisal: certificates, roots, CRLs, KDS, product and expected
  // values, with snp::Appraise's defaults (DEBUG and MIGRATE_MA refused).
  snp::AppraiseOptions snp;
  // The TPM quote Azure evidence carries. Empty: not checked, and the verdict notes it.
  std::optional<AzureTpmQuote> tpm_quote;
  // The nonce the TPM quote's extraData must equal. REQUIRED with tpm_quote unless
  // ignore_nonce, which accepts any nonce (for examining someone else's evidence) and notes it.
  std::optional<Bytes> nonce;
  bool ignore_nonce = false;
  // Expected PCR values of the TPM quote (as QuoteAppraiseOptions). REQUIRES tpm_quote.
  std::optional<PcrValues> expected_pcrs;
  // The measured-boot event log to check the TPM quote's PCRs against (as QuoteAppraiseOptions).
  // REQUIRES tpm_quote. Must outlive the call.
  const tcg::EventLog* event_log = nullptr;
  // The vTPM AK's TPM2B_PUBLIC (as QuoteAppraiseOptions; it must hold HCLAkPub). REQUIRES
  // tpm_quote. Empty: qualifiedSigner not compared, and the verdict notes it.
  Bytes ak_public_area;
};

struct AzureAppraisal {
  Verdict verdict;                  // tee "az-snp-vtpm"
  std::optional<HclReport> hcl;     // the parsed HCL report (its HCLAkPub is the vTPM's AK)
  snp::Appraisal snp;               // the hardware report's own appraisal
  std::optional<Attest> tpm_quote;  // set when the TPM quote verified
};

// Appraises an Azure HCL report (the vTPM NV index contents) at clock.Now(). Steps:
//  1. parse (kInvalidInput / kUnsupported: the Status); a TDX HCL report is kUnsupported (its
//     TDREPORT is MAC'ed, not signed: verify the TD quote instead);
//  2. the SNP report (snp::Appraise with options.snp): its reasons become this verdict's;
//  3. the claims binding: REPORT_DATA starts with H(runtime claims) (kRejected: a reason);
//  4. with a TPM quote: signed by HCLAkPub over exactly its quoted PCRs, extraData == nonce
//     (unless ignore_nonce), the AK public area (when given) as in AppraiseQuote, expected
//     PCRs inside the selection and equal, the event log's PCRs inside the selection and its
//     replay equal to the quoted values.
// Every reason of step 2 starts with "SNP report: ", of step 3 with "HCL report: " and of step
// 4 with "TPM quote: ", so a caller can tell them apart.
// Option combinations that cannot apply (expected_pcrs, event_log, ak_public_area or nonce
// without tpm_quote, a TPM quote without nonce and without ignore_nonce) are kInvalidInput.
Result<AzureAppraisal> AppraiseAzureHcl(ByteSpan hcl_bytes, const AzureAppraiseOptions& options,
                                        const Clock& clock);

// The HCL report's fields as `cvmctl report show --json` prints them.
nlohmann::ordered_json HclToJson(const HclReport& report);

}  // namespace cvm::tpm
