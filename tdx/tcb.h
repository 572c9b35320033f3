// Verification of DCAP collateral (tdx/collateral.h) and the TCB level evaluation Intel's Quote
// Verification Library performs (TcbLevelCheck.cpp, TdxModuleCheck.cpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/x509.h"
#include "tdx/collateral.h"
#include "tdx/pck.h"
#include "tdx/quote.h"

namespace cvm::tdx {

// Collateral whose signatures, chains and freshness have been checked.
struct VerifiedCollateral {
  TcbInfo tcb_info;
  QeIdentity qe_identity;
  std::vector<Crl> crls;  // root CA CRL and PCK CRL, for the quote's PCK chain
};

// Verifies: the three issuer chains to `roots` (empty: the Intel SGX Root CA) at `at`, checked
// against the root CA CRL; both CRLs signed by their issuers and current at `at`; the TCB info
// and QE identity signatures by their signing certificates; that both are current at `at`
// (issueDate <= at < nextUpdate). kRejected naming what failed (e.g. "collateral: tcb info
// expired at 2025-07-19T10:16:03Z"); kInvalidInput for unusable content.
Result<VerifiedCollateral> VerifyCollateral(const Collateral& c,
                                            const std::vector<Certificate>& roots, TimePoint at);

struct TcbEvaluation {
  TcbStatus status = TcbStatus::kUpToDate;  // the converged status of platform, module and QE
  std::vector<std::string> advisory_ids;    // sorted, unique
  TcbStatus platform_status = TcbStatus::kUpToDate;  // the matched TCB level's own status
  std::optional<TcbStatus> tdx_module_status;        // when TEE_TCB_SVN[1] > 0
  TcbStatus qe_status = TcbStatus::kUpToDate;
  std::string tcb_date;
};

// Evaluates the quote's TCB against verified collateral: FMSPC and PCE-ID of the PCK certificate
// must match the TCB info; the QE report must match the QE identity (MRSIGNER, ISVPRODID,
// MISCSELECT and ATTRIBUTES under their masks); the TDX module (MRSIGNERSEAM, SEAMATTRIBUTES)
// must match its identity; then the first TCB level whose SGX components and PCESVN (from the
// PCK certificate) and TDX components (TEE_TCB_SVN; from index 2 when TEE_TCB_SVN[1] > 0) are
// all lower or equal, converged with the TDX module and QE statuses as Intel's QVL does.
// kRejected when something does not match or no TCB level matches ("no TCB level matches").
Result<TcbEvaluation> EvaluateTcb(const Quote& quote, const PckExtensions& pck,
                                  const VerifiedCollateral& collateral);

}  // namespace cvm::tdx
