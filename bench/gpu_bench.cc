// GPU evidence verification cost: a relying party checking the evidence of 8 GPUs (the real
// four-GPU sample, twice), next to the 8 bare ECDSA P-384 verifications it contains, and one RIM.
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/encoding.h"
#include "common/signature.h"
#include "gpu/evidence_json.h"
#include "gpu/rim.h"
#include "gpu/verify.h"
#include "tests/testing/testing.h"

namespace cvm {
namespace {

constexpr char kNonce[] = "e97b23a1718095a0e9e35edca810768c70a6a5a389b705e753b197912bc11576";

std::string EightGpuJson() {
  Bytes b = testing::ReadData("vectors/nvidia-gpu/nvat/multi_gpu_hopper.json");
  auto four = nlohmann::json::parse(AsChars(b));
  nlohmann::json eight = nlohmann::json::array();
  for (int round = 0; round < 2; ++round) {
    for (const auto& e : four) eight.push_back(e);
  }
  return eight.dump();
}

gpu::VerifyOptions Options() {
  gpu::VerifyOptions o;
  o.at = *ParseTime("2025-03-01T00:00:00Z");
  return o;
}

// JSON parsing, 8 x (chain of 5 to the pinned root, FWID, signature, nonce). The eight are the
// real four-GPU list verified twice, in two calls: ParseEvidenceJson decodes each distinct
// certificate once per list, and within one list the four GPUs share only the top three of
// their chains, as eight GPUs of one system would; one list holding each GPU twice would share
// the leaves too and measure less work than eight GPUs need.
void BM_GpuVerifyEightGpuList(benchmark::State& state) {
  Bytes four = testing::ReadData("vectors/nvidia-gpu/nvat/multi_gpu_hopper.json");
  const std::string json(AsChars(four));
  Bytes nonce = *HexDecode(kNonce);
  gpu::VerifyOptions o = Options();
  for (auto _ : state) {
    for (int half = 0; half < 2; ++half) {
      auto v = gpu::VerifyNvidiaEvidence(json, nonce, o);
      if (!v.ok() || !v->verified || v->gpus.size() != 4) {
        return state.SkipWithError("did not verify");
      }
    }
  }
  state.SetItemsProcessed(state.iterations());  // items: sets of 8 GPUs
}
BENCHMARK(BM_GpuVerifyEightGpuList)->Unit(benchmark::kMillisecond);

// Only the 8 report signatures (SHA-384 + ECDSA P-384 with the leaf key), keys prepared.
void BM_EightBareP384Verifications(benchmark::State& state) {
  auto list = gpu::ParseEvidenceJson(EightGpuJson());
  struct Item {
    ossl::PKey key;
    Bytes report;
    gpu::AttestationReport parsed;
  };
  std::vector<Item> items;
  for (const auto& g : *list) {
    items.push_back(
        {std::move(g.chain[0].PublicKey()).value(), g.report, *gpu::ParseReport(g.report)});
  }
  for (auto _ : state) {
    for (const auto& it : items) {
      ByteSpan sig = it.parsed.signature;
      if (!VerifyEcdsaRaw(it.key.get(), DigestAlg::kSha384, gpu::SignedPart(it.report, it.parsed),
                          sig.subspan(0, 48), sig.subspan(48))
               .ok()) {
        return state.SkipWithError("signature did not verify");
      }
    }
  }
  state.SetItemsProcessed(state.iterations());  // items: sets of 8 signatures
}
BENCHMARK(BM_EightBareP384Verifications)->Unit(benchmark::kMillisecond);

// One driver RIM: XML parsing, C14N 1.1 + SHA-384 + ECDSA through xmlsec1, signer chain.
void BM_GpuVerifyRim(benchmark::State& state) {
  Bytes xml = testing::ReadData("vectors/nvidia-gpu/nvat/NV_GPU_DRIVER_GH100_550.144.03.xml");
  gpu::RimVerifyOptions o;
  o.at = *ParseTime("2026-06-01T00:00:00Z");
  for (auto _ : state) {
    if (!gpu::VerifyRim(xml, o).ok()) return state.SkipWithError("rim did not verify");
  }
}
BENCHMARK(BM_GpuVerifyRim)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace cvm
