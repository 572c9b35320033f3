// SEV-SNP verification cost: what a relying party pays per report.
#include <benchmark/benchmark.h>

#include "common/clock.h"
#include "common/x509.h"
#include "snp/report.h"
#include "snp/verify.h"
#include "tests/testing/testing.h"

namespace cvm {
namespace {

// The full check of a real Genoa report with its VCEK: chain to the built-in ARK (RSA-4096 PSS),
// P-384 report signature, TCB and hwID checks.
void BM_SnpVerifyReport(benchmark::State& state) {
  Bytes report = testing::ReadData("vectors/snp/genoa-v3/report.bin");
  snp::VerifyOptions options;
  options.certs = *ParseCertificates(testing::ReadData("vectors/snp/genoa-v3/vcek.pem"));
  options.at = *ParseTime("2026-06-01T00:00:00Z");
  for (auto _ : state) {
    if (!snp::VerifyReport(report, options).ok()) return state.SkipWithError("did not verify");
  }
}
BENCHMARK(BM_SnpVerifyReport);

void BM_SnpParseReport(benchmark::State& state) {
  Bytes report = testing::ReadData("vectors/snp/genoa-v3/report.bin");
  for (auto _ : state) benchmark::DoNotOptimize(snp::ParseReport(report));
}
BENCHMARK(BM_SnpParseReport);

}  // namespace
}  // namespace cvm
