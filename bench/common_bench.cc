// Benchmarks for the verification primitives every attestation goes through.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <vector>

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

// The floor of eventlog_replay (not a target; docs/performance.md): only the hashing a replay
// cannot avoid, with the log parsed beforehand, one reused EVP context per bank and fetched
// digests: per event and bank, H(register || event digest) - here 82 events x {SHA-1, SHA-256,
// SHA-384}, the last two blocks of SHA-512 each. Reported per byte of the log, like the pair.
void BM_EventLogReplayHashFloor(benchmark::State& state) {
  Bytes data = testing::ReadData("vectors/tpm/rhel8-uefi.bin");
  auto log = tcg::ParseEventLog(data);
  if (!log.ok()) return state.SkipWithError("log did not parse");
  struct Bank {
    uint16_t alg_id;
    const EVP_MD* md;
    EVP_MD_CTX* ctx;
  };
  std::vector<Bank> banks;
  for (const auto& a : log->algorithms) {
    if (auto alg = tcg::DigestAlgFromTpm(a.alg_id)) {
      banks.push_back({a.alg_id, EvpMd(*alg), EVP_MD_CTX_new()});
    }
  }
  uint8_t reg[64] = {};
  for (auto _ : state) {
    for (const tcg::Event& e : log->events) {
      if (e.type == tcg::kEvNoAction) continue;
      for (const tcg::EventDigest& d : e.digests) {
        for (const Bank& b : banks) {
          if (b.alg_id != d.alg_id) continue;
          unsigned int n = 0;
          EVP_DigestInit_ex2(b.ctx, b.md, nullptr);
          EVP_DigestUpdate(b.ctx, reg, d.digest.size());
          EVP_DigestUpdate(b.ctx, d.digest.data(), d.digest.size());
          EVP_DigestFinal_ex(b.ctx, reg, &n);
        }
      }
    }
    benchmark::DoNotOptimize(reg);
  }
  for (const Bank& b : banks) EVP_MD_CTX_free(b.ctx);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_EventLogReplayHashFloor);

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
