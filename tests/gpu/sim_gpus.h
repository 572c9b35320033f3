// Two simulated H100s (driver 550.90.07, VBIOS 96.00.9F.00.01, SPT) and a PEM file with their
// roots, made once per test binary: the GPU side of the agent's and the relying party's tests.
#pragma once

#include <string>
#include <vector>

#include "gpu/sim.h"
#include "tests/testing/testing.h"

namespace cvm::gpu::testing {

struct SimGpus {
  ::cvm::testing::TempDir dir;
  std::vector<SimGpu> gpus;
  std::string roots;  // the roots of `gpus`, PEM, in `dir`

  SimGpus();
};

// The binary's shared pair, made on first use.
SimGpus& SharedSimGpus();

}  // namespace cvm::gpu::testing
