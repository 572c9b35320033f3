// SNP policy files: YAML that fills ValidationOptions (validate.h). Unknown keys are refused with
// the key's name, so a typo never silently disables a check. Example and key reference:
// config/policy-snp.example.yaml and docs/snp.md.
#pragma once

#include <string>
#include <string_view>

#include "snp/validate.h"

namespace cvm::snp {

// Parses policy YAML. kInvalidInput naming the key and its line and column for unknown keys,
// wrong types, hex of the wrong length, out-of-range numbers
// ("snp policy: min_tcb.reportd (line 3, column 3): unknown key ..."). Never throws.
Result<ValidationOptions> ParsePolicy(std::string_view yaml);
// Reads and parses a policy file (errors name the path).
Result<ValidationOptions> LoadPolicyFile(const std::string& path);

}  // namespace cvm::snp
