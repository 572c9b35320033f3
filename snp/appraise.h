// Appraising an SNP report: the one entry point every front door (cvmctl, the evidence bundle,
// the relying party, the Azure HCL path) uses, so the defaults and what counts as "verified" are
// decided once, here. Verification (verify.h: is it genuine?) then validation (validate.h: is it
// what we expected?), returning a Verdict (common/verdict.h) with every reason.
#pragma once

#include <optional>
#include <vector>

#include "common/clock.h"
#include "common/verdict.h"
#include "common/x509.h"
#include "snp/kds.h"
#include "snp/validate.h"
#include "snp/verify.h"

namespace cvm::snp {

// The context of every error of step 3 below (getting the certificates), so a caller can add
// advice on where certificates come from.
inline constexpr char kCertsContext[] = "endorsement certificates";

struct AppraiseOptions {
  // The VCEK or VLEK and any intermediates (untrusted candidates, any order; e.g. from the host's
  // certificate table or --cert). Empty: fetched through `kds`.
  std::vector<Certificate> certs;
  // Trust anchors. Empty: AMD's built-in ARK of the product. Naming roots (a simulated ARK)
  // replaces the built-in ones.
  std::vector<Certificate> roots;
  // CRLs (AMD KDS /crl, or the host table's CRL entry). Every CRL given is applied: it must be
  // signed by a trusted root and current, and no certificate of the chain may be on it. Empty:
  // no revocation check, and the verdict notes it.
  std::vector<Crl> crls;
  // Where to get the VCEK and chain when `certs` is empty (cache only or network, as the client
  // was made). nullptr: nowhere; then empty `certs` is kInvalidInput. Must outlive the call.
  KdsClient* kds = nullptr;
  // The product the caller expects. kUnknown: taken from the report (CPUID, version 3+) or the
  // certificate. Otherwise a report whose CPUID or certificate says another product is rejected
  // (a contradiction is never resolved in either side's favour), and for version 2 reports it
  // selects the VCEK to fetch.
  Product product = Product::kUnknown;
  // Expected values. The default checks only the guest-policy safety bits: a report with DEBUG
  // or MIGRATE_MA set is rejected unless expected.allow_debug / allow_migrate_ma say otherwise.
  ValidationOptions expected;
  // Chains that verified before (verify.h VerifyOptions::chain_cache). nullptr: none. Not owned.
  ChainCache* chain_cache = nullptr;
};

struct Appraisal {
  Verdict verdict;                         // tee "snp"
  std::optional<VerifiedReport> verified;  // set when verification held (verdict.genuine)
};

// Appraises `report_bytes` at clock.Now(). Steps, each logged at debug level:
//  1. parse (kInvalidInput / kUnsupported: the Status, no verdict);
//  2. the product: options.product against the report's CPUID (a contradiction is a reason);
//  3. the certificates: options.certs, else the VCEK and chain from options.kds (kInvalidInput
//     when there is no KDS client or a version 2 report does not name its product; the KDS
//     error when fetching fails; each with the context kCertsContext);
//  4. verification (verify.h VerifyReport with options.roots, options.crls and clock.Now()):
//     kRejected makes the verdict not genuine with that reason; other failures (e.g. no VCEK
//     among the certificates: kInvalidInput) are returned as the Status;
//  5. validation (validate.h FindViolations with options.expected): every violation a reason.
// The verdict carries product, REPORTED_TCB, MEASUREMENT and REPORT_DATA, details
// {"signing_key", "endorsement_key", "root", "crls"} and the decoded report. Notes say when no
// CRL was applied.
Result<Appraisal> Appraise(ByteSpan report_bytes, const AppraiseOptions& options,
                           const Clock& clock);

}  // namespace cvm::snp
