#include "tests/gpu/sim_gpus.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string_view>
#include <utility>

#include "common/file_util.h"

namespace cvm::gpu::testing {

SimGpus::SimGpus() : roots(dir.File("gpu-roots.pem")) {
  std::string pem;
  for (uint64_t serial = 1; serial <= 2; ++serial) {
    SimGpuOptions o;
    o.serial = serial;
    auto g = SimGpu::Create(o);
    REQUIRE(g.ok());
    pem += g->root().Pem();
    gpus.push_back(std::move(*g));
  }
  REQUIRE(WriteFileAtomic(roots, std::string_view(pem)).ok());
}

SimGpus& SharedSimGpus() {
  static SimGpus g;
  return g;
}

}  // namespace cvm::gpu::testing
