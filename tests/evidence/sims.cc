#include "tests/evidence/sims.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <utility>

namespace cvm::testing {

SnpSim::SnpSim() {
  auto s = snp::SimSnp::Create(snp::SimPlatform{}, dir.path());
  REQUIRE(s.ok());
  sim.emplace(std::move(*s));
}

SnpSim& SharedSnpSim() {
  static SnpSim s;
  return s;
}

TdxSim::TdxSim() {
  auto s = tdx::SimTdx::Create(std::chrono::system_clock::now());
  REQUIRE(s.ok());
  REQUIRE(s->Save(dir.path()).ok());
  sim.emplace(std::move(*s));
}

TdxSim& SharedTdxSim() {
  static TdxSim s;
  return s;
}

}  // namespace cvm::testing
