// The simulated platforms of the evidence tests, made once per test binary (a simulated SNP
// platform needs RSA-4096 keys, slow to generate under ASan), each with its state directory.
#pragma once

#include <optional>

#include "snp/sim.h"
#include "tdx/sim.h"
#include "tests/testing/testing.h"

namespace cvm::testing {

struct SnpSim {
  TempDir dir;  // the saved state (cvmctl sim init's layout)
  std::optional<snp::SimSnp> sim;
  SnpSim();
};
SnpSim& SharedSnpSim();

struct TdxSim {
  TempDir dir;
  std::optional<tdx::SimTdx> sim;
  TdxSim();
};
TdxSim& SharedTdxSim();

}  // namespace cvm::testing
