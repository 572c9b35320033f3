// The JSON view of an SNP report that `cvmctl report show --json` prints and other modules (the
// Azure HCL report) embed: ABI field names in snake_case, byte fields as lowercase hex, integers
// as JSON numbers (64-bit exact), TCB fields as {component names..., "raw"}, plus "tee": "snp"
// and "product".
#pragma once

#include <nlohmann/json.hpp>

#include "snp/report.h"

namespace cvm::snp {

// `product` picks the TCB layout and is printed as "Milan"/"Genoa"/"Turin"/"unknown".
nlohmann::ordered_json ReportToJson(const Report& report, Product product);
// {"fmc" (Turin only), "bootloader", "tee", "snp", "microcode", "raw"}.
nlohmann::ordered_json TcbToJson(uint64_t raw, Product product);

}  // namespace cvm::snp
