// SEV-SNP verification cost: what a relying party pays per report.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/chain_cache.h"
#include "common/clock.h"
#include "common/digest.h"
#include "common/signature.h"
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

// The limits of issue #12 (scripts/bench pairs each with the bare OpenSSL cost it is held to).
// Every benchmark below reports items_per_second: verifications per second.

TimePoint SnpAt() { return *ParseTime("2026-06-01T00:00:00Z"); }

// snp_verify_per_s: the full check of the same report with the VCEK chain verified once and
// remembered (ChainCache, as cvm-rp keeps one), so each call pays the P-384 report signature,
// parsing, the chain-cache lookup, and the TCB and hwID checks.
void BM_SnpVerifyReportCached(benchmark::State& state) {
  Bytes report = testing::ReadData("vectors/snp/genoa-v3/report.bin");
  ChainCache cache;
  snp::VerifyOptions options;
  options.certs = *ParseCertificates(testing::ReadData("vectors/snp/genoa-v3/vcek.pem"));
  options.at = SnpAt();
  options.chain_cache = &cache;
  for (auto _ : state) {
    if (!snp::VerifyReport(report, options).ok()) return state.SkipWithError("did not verify");
  }
  if (cache.hits() + 1 < static_cast<uint64_t>(state.iterations())) {
    return state.SkipWithError("the chain cache was not used");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SnpVerifyReportCached);

// openssl_p384_verify_per_s: one bare ECDSA P-384/SHA-384 verification through EVP over the
// report's signed bytes, key parsed and signature DER-encoded beforehand.
void BM_OpensslP384Verify(benchmark::State& state) {
  Bytes report = testing::ReadData("vectors/snp/genoa-v3/report.bin");
  auto vcek = Certificate::FromPem(AsChars(testing::ReadData("vectors/snp/genoa-v3/vcek.pem")));
  auto key = vcek->PublicKey();
  auto parsed = snp::ParseReport(report);
  Bytes r(parsed->signature_r.rbegin(), parsed->signature_r.rend());
  Bytes s(parsed->signature_s.rbegin(), parsed->signature_s.rend());
  Bytes der = *EcdsaRawToDer(r, s);
  ByteSpan signed_bytes = ByteSpan(report).first(snp::kSignedSize);
  for (auto _ : state) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    int ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha384(), nullptr, key->get()) == 1 &&
             EVP_DigestVerify(ctx, der.data(), der.size(), signed_bytes.data(),
                              signed_bytes.size()) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) return state.SkipWithError("did not verify");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OpensslP384Verify);

// snp_full_verify_per_s: nothing cached. Each call parses the VCEK, ASK and ARK from PEM and
// the report, verifies VCEK -> ASK -> ARK (two RSA-4096 PSS signatures), the P-384 report
// signature and the TCB and hwID checks.
void BM_SnpFullVerify(benchmark::State& state) {
  Bytes report = testing::ReadData("vectors/snp/genoa-v3/report.bin");
  Bytes vcek = testing::ReadData("vectors/snp/genoa-v3/vcek.pem");
  Bytes ask = testing::ReadData("vectors/snp/genoa-v3/ask.pem");
  Bytes ark = testing::ReadData("vectors/snp/genoa-v3/ark.pem");
  for (auto _ : state) {
    snp::VerifyOptions options;
    options.certs = *ParseCertificates(vcek);
    options.certs.push_back((*ParseCertificates(ask))[0]);
    options.roots = *ParseCertificates(ark);
    options.at = SnpAt();
    if (!snp::VerifyReport(report, options).ok()) return state.SkipWithError("did not verify");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SnpFullVerify);

// snp_full_bound_per_s: the bare signatures such a check needs, keys parsed beforehand: the
// VCEK's and the ASK's RSA-4096 PSS signatures (X509_verify) and the report's P-384 signature.
void BM_SnpFullBound(benchmark::State& state) {
  Bytes report = testing::ReadData("vectors/snp/genoa-v3/report.bin");
  auto vcek = Certificate::FromPem(AsChars(testing::ReadData("vectors/snp/genoa-v3/vcek.pem")));
  auto ask = Certificate::FromPem(AsChars(testing::ReadData("vectors/snp/genoa-v3/ask.pem")));
  auto ark = Certificate::FromPem(AsChars(testing::ReadData("vectors/snp/genoa-v3/ark.pem")));
  auto vcek_key = vcek->PublicKey();
  auto ask_key = ask->PublicKey();
  auto ark_key = ark->PublicKey();
  auto parsed = snp::ParseReport(report);
  Bytes r(parsed->signature_r.rbegin(), parsed->signature_r.rend());
  Bytes s(parsed->signature_s.rbegin(), parsed->signature_s.rend());
  Bytes der = *EcdsaRawToDer(r, s);
  ByteSpan signed_bytes = ByteSpan(report).first(snp::kSignedSize);
  for (auto _ : state) {
    bool ok = X509_verify(vcek->get(), ask_key->get()) == 1 &&
              X509_verify(ask->get(), ark_key->get()) == 1;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ok = ok && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha384(), nullptr, vcek_key->get()) == 1 &&
         EVP_DigestVerify(ctx, der.data(), der.size(), signed_bytes.data(), signed_bytes.size()) ==
             1;
    EVP_MD_CTX_free(ctx);
    if (!ok) return state.SkipWithError("did not verify");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SnpFullBound);

// Not a target: the parsing BM_SnpFullVerify cannot avoid, i.e. the VCEK, ASK and ARK decoded
// from PEM as it does every call. With OpenSSL 3.0 each certificate's public key goes through
// an OSSL_DECODER context (about 120 us here), so bound / (bound + this) is the ceiling of
// snp_full_verify (docs/performance.md).
void BM_SnpFullParseFloor(benchmark::State& state) {
  Bytes vcek = testing::ReadData("vectors/snp/genoa-v3/vcek.pem");
  Bytes ask = testing::ReadData("vectors/snp/genoa-v3/ask.pem");
  Bytes ark = testing::ReadData("vectors/snp/genoa-v3/ark.pem");
  for (auto _ : state) {
    auto a = ParseCertificates(vcek);
    auto b = ParseCertificates(ask);
    auto c = ParseCertificates(ark);
    if (!a.ok() || !b.ok() || !c.ok()) return state.SkipWithError("did not parse");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SnpFullParseFloor);

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
