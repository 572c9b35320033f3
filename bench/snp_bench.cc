// SEV-SNP verification cost: what a relying party pays per report.
#include <benchmark/benchmark.h>

#include "common/clock.h"
#include "common/digest.h"
#include "common/x509.h"
#include "snp/measure.h"
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

// A 4 MiB firmware: 1023 pages of filler, then the real OVMF (AmdSev build) last page with its
// footer table and SEV metadata.
const snp::FirmwareImage& Firmware4MiB() {
  static const snp::FirmwareImage image = [] {
    Bytes data(4 << 20);
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 131 + (i >> 12));
    Bytes suffix = testing::ReadData("vectors/measure/ovmf_AmdSev_suffix.bin");
    std::copy(suffix.begin(), suffix.end(),
              data.end() - static_cast<std::ptrdiff_t>(suffix.size()));
    return *snp::FirmwareImage::Parse(std::move(data));
  }();
  return image;
}

// The whole SNP launch digest of the 4 MiB firmware with 64 vCPUs and a kernel-hashes page.
void BM_SnpLaunchDigest4MiB64Vcpus(benchmark::State& state) {
  snp::SnpLaunch launch;
  launch.ovmf = &Firmware4MiB();
  launch.vcpus = 64;
  launch.vcpu_sig = 0xa10f10;
  launch.guest_features = 0x21;
  launch.kernel = snp::KernelHashes{};
  for (auto _ : state) {
    auto d = snp::SnpLaunchDigest(launch);
    if (!d.ok()) return state.SkipWithError("launch digest failed");
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * (4 << 20));
}
BENCHMARK(BM_SnpLaunchDigest4MiB64Vcpus)->Unit(benchmark::kMillisecond);

// The floor: one SHA-384 over the same 4 MiB.
void BM_Sha384Of4MiB(benchmark::State& state) {
  ByteSpan data = Firmware4MiB().data();
  for (auto _ : state) benchmark::DoNotOptimize(Sha384(data));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * (4 << 20));
}
BENCHMARK(BM_Sha384Of4MiB)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace cvm
