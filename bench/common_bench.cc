// Benchmarks for the verification primitives every attestation goes through.
#include <benchmark/benchmark.h>

#include "common/clock.h"
#include "common/digest.h"
#include "common/encoding.h"
#include "common/tcg_eventlog.h"
#include "common/x509.h"
#include "tests/testing/testing.h"

namespace cvm {
namespace {

// Parse and replay a real 24 KiB UEFI measured-boot log (every bank).
void BM_EventLogParseReplay(benchmark::State& state) {
  Bytes data = testing::ReadData("vectors/tpm/rhel8-uefi.bin");
  for (auto _ : state) {
    auto log = tcg::ParseEventLog(data);
    benchmark::DoNotOptimize(tcg::Replay(*log, tcg::ReplayMode::kTpm));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_EventLogParseReplay);

// sha256_mb_per_s, the limit eventlog_replay_mb_per_s is held to: one SHA-256 over the same log.
void BM_Sha256EventLog(benchmark::State& state) {
  Bytes data = testing::ReadData("vectors/tpm/rhel8-uefi.bin");
  for (auto _ : state) benchmark::DoNotOptimize(Sha256(data));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Sha256EventLog);

// Verify the real AMD Milan chain VCEK (P-384) <- ASK <- ARK (RSA-4096 PSS).
void BM_AmdChainVerify(benchmark::State& state) {
  auto vcek = Certificate::FromDer(testing::ReadData("vectors/snp/milan-v2/vcek.der"));
  auto chain = ParseCertificates(testing::ReadData("vectors/snp/milan-v2/ask_ark.pem"));
  std::vector<Certificate> mids = {(*chain)[0]}, roots = {(*chain)[1]};
  ChainOptions options;
  options.at = *ParseTime("2024-01-01T00:00:00Z");
  for (auto _ : state) {
    if (!VerifyChain(*vcek, mids, roots, options).ok()) state.SkipWithError("chain did not verify");
  }
}
BENCHMARK(BM_AmdChainVerify);

void BM_Base64Decode64KiB(benchmark::State& state) {
  std::string text = Base64Encode(Bytes(64 * 1024, 0x5a));
  for (auto _ : state) benchmark::DoNotOptimize(Base64Decode(text));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_Base64Decode64KiB);

}  // namespace
}  // namespace cvm
