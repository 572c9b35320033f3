// Test helper: hand-made Azure HCL reports.
#pragma once

#include <string>

#include "common/bytes.h"
#include "common/ossl.h"

namespace cvm::testing {

// A well-formed SNP HCL report around `claims` (all-zero SNP report but for REPORT_DATA =
// SHA-256(claims)), exactly report_size bytes long.
Bytes MakeHcl(const std::string& claims);
// A well-formed TDX HCL report around `claims` holding `td_report` (1024 bytes, whose REPORTDATA
// the caller set to SHA-256(claims) zero-padded).
Bytes MakeTdxHcl(const std::string& claims, ByteSpan td_report);
// Runtime claims JSON with `ak` (RSA) as HCLAkPub and `user_data` as "user-data".
std::string HclClaims(const EVP_PKEY* ak, ByteSpan user_data);

}  // namespace cvm::testing
