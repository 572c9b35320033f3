// The launch-measurement vectors (cases.json and the files it names) and cvmctl, for the
// measure, idblock and policy tests.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/testing/testing.h"

namespace cvm::snp::testing {

// $CVM_MEASURE_VECTORS, else <source>/../shared/vectors/measure when it has a cases.json, else
// tests/data/vectors/measure.
std::string MeasureVectorDir();
// The parsed cases.json (aborts the test binary when it is missing or not a JSON array).
const std::vector<nlohmann::json>& MeasureCases();
// Runs the built cvmctl with `args`.
cvm::testing::ProcessResult Cvmctl(std::vector<std::string> args);

}  // namespace cvm::snp::testing
