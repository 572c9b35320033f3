// What the simulated SEV-SNP firmware and a relying party pay per attestation: the pairs
// scripts/bench holds the agent's evidence API and cvm-rp against.
#include <benchmark/benchmark.h>

#include <optional>

#include "common/chain_cache.h"
#include "common/clock.h"
#include "evidence/bundle.h"
#include "evidence/collect.h"
#include "snp/sim.h"
#include "tests/testing/testing.h"

namespace cvm {
namespace {

// One simulated Genoa platform for the whole run (creating it generates two RSA-4096 keys).
struct SimFixture {
  testing::TempDir dir;
  std::optional<snp::SimSnp> sim;
  SimFixture() {
    auto s = snp::SimSnp::Create(snp::SimPlatform{}, dir.File("sim"));
    if (s.ok()) sim.emplace(std::move(*s));
  }
};

SimFixture& Fixture() {
  static SimFixture f;
  return f;
}

// sim_sign_per_s: the simulated firmware's own work per report, its keys in memory: fill the
// report and sign it (ECDSA P-384 with the VCEK key).
void BM_SimSnpSign(benchmark::State& state) {
  if (!Fixture().sim) return state.SkipWithError("no simulated platform");
  snp::SimReportRequest request;
  request.report_data.fill(0x5a);
  for (auto _ : state) {
    auto report = Fixture().sim->MakeReport(request);
    if (!report.ok()) return state.SkipWithError("did not sign");
    benchmark::DoNotOptimize(report);
  }
  state.SetItemsProcessed(state.iterations());
}
// Wall-clock time, like the server rates (wrk) it is the limit of: on a loaded machine a CPU-time
// rate would hold the API to a speed no wall-clock measurement can show.
BENCHMARK(BM_SimSnpSign)->UseRealTime();

// bundle_verify_per_s: what cvm-rp runs per attestation on a simulated SNP bundle, with the
// options it passes (the simulated ARK as the only root, the nonce and TEE key it issued, a
// chain cache for the process): chain lookup, report signature, binding of the runtime data.
void BM_BundleVerifySimSnp(benchmark::State& state) {
  if (!Fixture().sim) return state.SkipWithError("no simulated platform");
  const std::string nonce = "q83vEjRWeJA-benchmark-nonce";
  evidence::CollectRequest request;
  request.kind = evidence::CollectKind::kSimSnp;
  request.sim_dir = Fixture().dir.File("sim");
  request.nonce = nonce;
  evidence::CollectPlatform platform;
  auto bundle = evidence::Collect(request, platform);
  if (!bundle.ok()) return state.SkipWithError("could not collect a simulated bundle");
  ChainCache cache;
  evidence::BundleVerifyOptions options;
  options.at = SystemClock::Get().Now();
  options.snp_roots = {Fixture().sim->ark()};
  options.expected_nonce = nonce;
  options.chain_cache = &cache;
  for (auto _ : state) {
    auto verdict = evidence::VerifyBundle(*bundle, options);
    if (!verdict.ok() || !verdict->verified) return state.SkipWithError("did not verify");
  }
  state.SetItemsProcessed(state.iterations());
}
// scripts/bench reads both times: bundle_verify_per_cpu_s (CPU time, the limit of cvm-rp's CPU
// per exchange, rp_attest) and bundle_verify_per_s (wall clock, next to rp_load's wall rate).
BENCHMARK(BM_BundleVerifySimSnp)->UseRealTime();

}  // namespace
}  // namespace cvm
