// The TDX part of a verification policy, read from YAML (config/policy-tdx.example.yaml):
//
//   tdx:                       # the keys may also be at the top level
//     mrtd: <96 hex>           # and rtmr0..rtmr3, mrconfigid, mrowner, mrownerconfig, mrseam
//     report_data: <128 hex>
//     allow_debug: false
//     td_attributes: "0x0000000010000000"   # exact value; xfam likewise
//     min_tee_tcb_svn: <32 hex>
//     min_qe_svn: 4
//     min_pce_svn: 11
//     accepted_tcb_statuses: [UpToDate, SWHardeningNeeded]
//
// Unknown keys are refused, so a misspelt key never silently disables a check.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "tdx/validate.h"

namespace cvm::tdx {

// Parses the policy text. kInvalidInput naming the key and its line and column for malformed or
// unknown entries ("tdx policy: mrdt (line 2, column 3): unknown key"). Never throws.
Result<ValidateOptions> ParsePolicy(std::string_view yaml);
// Reads and parses a policy file (errors name the path).
Result<ValidateOptions> LoadPolicyFile(const std::string& path);

}  // namespace cvm::tdx
