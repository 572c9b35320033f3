// Appraising a TDX quote: the one entry point every front door (cvmctl, the evidence bundle, the
// relying party) uses. Verification (verify.h, collateral.h: genuine, not revoked, TCB level)
// then validation (validate.h: the TD we expected), returning a Verdict (common/verdict.h) with
// every reason.
//
// Collateral is required: without it a quote's signatures can be checked but not its TCB status
// nor revocation, which is not enough to call it verified. A caller that accepts a
// signature-only check must say so (signature_only), and the verdict then notes what was not
// checked.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "common/clock.h"
#include "common/http.h"
#include "common/verdict.h"
#include "common/x509.h"
#include "tdx/collateral.h"
#include "tdx/pcs.h"
#include "tdx/quote.h"
#include "tdx/report.h"
#include "tdx/tcb.h"
#include "tdx/validate.h"
#include "tdx/verify.h"

namespace cvm::tdx {

struct AppraiseOptions {
  // Trust anchors for the PCK chain and the collateral's issuer chains. Empty: the built-in Intel
  // SGX Root CA only.
  std::vector<Certificate> roots;
  // The collateral (PCCS JSON, collateral.h). Empty: fetched through `pcs` when set; otherwise
  // kInvalidInput unless signature_only.
  std::optional<Collateral> collateral;
  // Where to fetch collateral when none is given (Intel PCS or a PCCS at pcs_options.base_url).
  // nullptr: no fetching. Must outlive the call.
  HttpClient* pcs = nullptr;
  PcsOptions pcs_options;
  // Accept a signature-only check: no collateral, so neither TCB status nor revocation of the PCK
  // chain are evaluated; the verdict notes it. kInvalidInput together with `collateral` (the
  // caller must mean one or the other). Default: false (collateral required).
  bool signature_only = false;
  // Further CRLs for the PCK chain, applied in addition to the collateral's on every path
  // (including signature_only). Each must be signed by a certificate of the chain and current.
  std::vector<Crl> crls;
  // Expected values. The default refuses a TD with the DEBUG attribute and accepts the TCB
  // statuses UpToDate, SWHardeningNeeded, ConfigurationNeeded and
  // ConfigurationAndSWHardeningNeeded (validate.h).
  ValidateOptions expected;
  // PCK chains that verified before (verify.h QuoteVerifyOptions::chain_cache). nullptr: none.
  // Not owned.
  ChainCache* chain_cache = nullptr;
};

struct Appraisal {
  Verdict verdict;                        // tee "tdx"
  std::optional<Quote> quote;             // the parsed quote
  std::optional<VerifiedQuote> verified;  // set when the signatures and PCK chain held
  std::optional<TcbEvaluation> tcb;       // set when collateral was evaluated
};

// Appraises `quote_bytes` at clock.Now(). Steps, each logged at debug level:
//  1. parse (kInvalidInput / kUnsupported: the Status, no verdict);
//  2. collateral: options.collateral, else fetched through options.pcs (the fetch error with the
//     service's base URL as context), else kInvalidInput unless signature_only;
//  3. VerifyCollateral at clock.Now() (kRejected: a reason, not genuine);
//  4. VerifyQuote (PCK chain with the collateral's and options.crls' CRLs, QE report, quote
//     signature): kRejected is a reason, other failures the Status;
//  5. EvaluateTcb (FMSPC, QE identity, TDX module, TCB level): kRejected is a reason;
//  6. validation (QuoteViolations with options.expected, the PCK extensions and the TCB
//     evaluation): every violation a reason.
// The verdict carries "TDX", the TCB status and TEE_TCB_SVN, MRTD and REPORTDATA; details
// {"fmspc", "pce_svn", "qe_svn", "tcb_status", "advisory_ids", "tcb_date", "qe_tcb_status",
// "collateral"} and the decoded quote.
Result<Appraisal> Appraise(ByteSpan quote_bytes, const AppraiseOptions& options,
                           const Clock& clock);

// Fetches collateral for the quote's (not yet verified) PCK certificate. What comes back is
// untrusted until VerifyCollateral. Errors name the service.
Result<Collateral> FetchCollateralForQuote(HttpClient& http, const Quote& quote,
                                           const PcsOptions& options);

// Whether a (verified) TD quote covers `report`, a TDREPORT obtained elsewhere (e.g. Azure's HCL
// report): the quoting enclave checks the TDREPORT's MAC before it signs the fields the quote
// body copies from it, so the quote covers the report when every one of them is equal. Returns
// one sentence per field that differs (empty: the quote binds the report).
std::vector<std::string> TdReportMismatches(const TdReport& report, const TdQuoteBody& body);

// The quote's fields as `cvmctl report show --json` prints them (hex strings; "fmspc" from the
// unverified PCK certificate, null when unreadable).
nlohmann::ordered_json QuoteToJson(const Quote& quote);

}  // namespace cvm::tdx
