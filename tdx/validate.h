// Validation of a verified TDX quote against expected values: is it the TD we expected?
// Verification (verify.h, collateral.h) must have succeeded first. Every violation is reported,
// not just the first.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "tdx/collateral.h"
#include "tdx/pck.h"
#include "tdx/quote.h"
#include "tdx/tcb.h"

namespace cvm::tdx {

// TD attribute bits (Intel TDX module ABI; go-tdx-guest validate.go).
inline constexpr uint64_t kTdAttrDebug = 1ull << 0;
inline constexpr uint64_t kTdAttrSeptVeDisable = 1ull << 28;

struct ValidateOptions {
  // Expected values; nullopt: not checked. Measurements are 48 bytes, report data 64.
  std::optional<Bytes> mrtd;
  std::array<std::optional<Bytes>, 4> rtmr;
  std::optional<Bytes> mrconfigid;
  std::optional<Bytes> mrowner;
  std::optional<Bytes> mrownerconfig;
  std::optional<Bytes> mrseam;
  std::optional<Bytes> report_data;
  // Whether a TD with the DEBUG attribute is acceptable. Default: no.
  bool allow_debug = false;
  // Exact TD attributes and XFAM (as 64-bit values); nullopt: not checked.
  std::optional<uint64_t> td_attributes;
  std::optional<uint64_t> xfam;
  // Minimum TEE_TCB_SVN, compared component by component (16 bytes); nullopt: not checked.
  std::optional<Bytes> min_tee_tcb_svn;
  // Minimum QE ISVSVN (from the QE report) and PCE SVN (from the PCK certificate).
  std::optional<uint16_t> min_qe_svn;
  std::optional<uint16_t> min_pce_svn;
  // TCB statuses accepted when collateral was evaluated. Empty: UpToDate, SWHardeningNeeded,
  // ConfigurationNeeded and ConfigurationAndSWHardeningNeeded. Revoked is never accepted.
  std::vector<TcbStatus> accepted_tcb_statuses;
};

// Returns every violation as a sentence ("MRTD is <hex>, expected <hex>"); empty when the quote
// meets `options`. `pck` and `tcb` may be null when unknown; their checks are then skipped,
// except that a TCB status requirement is a violation without `tcb` only if
// accepted_tcb_statuses was set explicitly.
std::vector<std::string> QuoteViolations(const Quote& quote, const PckExtensions* pck,
                                         const TcbEvaluation* tcb, const ValidateOptions& options);

// kRejected listing every violation ("tdx policy: 2 violations: ...; ..."), or OK.
Status ValidateQuote(const Quote& quote, const PckExtensions* pck, const TcbEvaluation* tcb,
                     const ValidateOptions& options);

}  // namespace cvm::tdx
