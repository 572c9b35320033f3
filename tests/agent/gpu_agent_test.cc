// The daemon's GPU side in process: the evidence collector with simulated GPUs behind the NVML
// seam (gpu: auto / required), the KBS attester against the real cvm-rp with a GPU policy, and
// the GPUs marked ready only after the relying party accepted their evidence.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "agent/collect_source.h"
#include "agent/config.h"
#include "agent/kbs_attester.h"
#include "common/file_util.h"
#include "evidence/bundle.h"
#include "gpu/sim.h"
#include "tests/agent/agent_fixture.h"
#include "tests/gpu/sim_gpus.h"
#include "tests/testing/testing.h"

namespace cvm::agent {
namespace {

using namespace cvm::agent::testing;  // NOLINT(google-build-using-namespace)
using cvm::testing::TempDir;
using nlohmann::json;

gpu::testing::SimGpus& Gpus() { return gpu::testing::SharedSimGpus(); }

Config GpuConfig(GpuSetting setting) {
  Config c;
  c.tee = TeeSetting::kSimSnp;
  c.sim_state_dir = SharedSimSnp();
  c.gpu = setting;
  return c;
}

Platform SimulatedPlatform() {
  Platform p;
  p.kind = TeeKind::kSimSnp;
  p.simulated = true;
  return p;
}

// A collector over simulated GPUs; *nvml_out (optional) keeps a view of the provider.
std::shared_ptr<EvidenceCollector> OpenWithGpus(const Config& config, gpu::CcState state,
                                                gpu::SimGpuProvider** nvml_out = nullptr) {
  auto nvml = std::make_unique<gpu::SimGpuProvider>(Gpus().gpus, state);
  if (nvml_out != nullptr) *nvml_out = nvml.get();
  auto c = EvidenceCollector::Open(config, SimulatedPlatform(), std::move(nvml));
  REQUIRE(c.ok());
  return *c;
}

constexpr gpu::CcState kCcOn{true, false, false};

TEST_CASE("The evidence source adds every GPU to a bundle that verifies with the GPUs' roots") {
  auto collector = OpenWithGpus(GpuConfig(GpuSetting::kRequired), kCcOn);
  auto source = NewCollectEvidenceSource(collector);
  EvidenceRequest req;
  req.runtime_data = json{{"nonce", "gpu-nonce-123"}};
  auto text = source->Collect(req);
  REQUIRE(text.ok());
  CHECK(collector->gpus_collected());
  auto bundle = evidence::ParseBundle(*text);
  REQUIRE(bundle.ok());
  evidence::BundleVerifyOptions o;
  o.at = SystemClock::Get().Now();
  auto ark = Certificate::FromPem(*ReadTextFile(SharedSimSnp() + "/ark.pem"));
  REQUIRE(ark.ok());
  o.snp_roots = {*ark};
  o.expected_nonce = "gpu-nonce-123";
  o.gpu.device_anchors = {Gpus().gpus[0].root(), Gpus().gpus[1].root()};
  auto v = evidence::VerifyBundle(*bundle, o);
  REQUIRE(v.ok());
  INFO(v->ToJson().dump());
  CHECK(v->verified);
  CHECK(v->claims.gpus.size() == 2);
}

TEST_CASE("gpu: auto with CC mode off collects the CPU evidence alone and marks nothing ready") {
  gpu::SimGpuProvider* nvml = nullptr;
  auto collector =
      OpenWithGpus(GpuConfig(GpuSetting::kAuto), gpu::CcState{false, false, false}, &nvml);
  EvidenceRequest req;
  req.runtime_data = json{{"nonce", "n-1234567"}};
  auto text = NewCollectEvidenceSource(collector)->Collect(req);
  REQUIRE(text.ok());
  CHECK(text->find("nvidia") == std::string::npos);
  CHECK_FALSE(collector->gpus_collected());
  CHECK(collector->MarkGpusReady().ok());
  CHECK_FALSE(*nvml->Ready());
}

TEST_CASE("gpu: required refuses to start where NVML is not installed") {
  // This test machine has no NVIDIA driver, so libnvidia-ml.so.1 cannot be loaded.
  auto c = EvidenceCollector::Open(GpuConfig(GpuSetting::kRequired), SimulatedPlatform());
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == Code::kUnavailable);
  CHECK(c.status().message().find("gpu: required") != std::string::npos);
  auto automatic = EvidenceCollector::Open(GpuConfig(GpuSetting::kAuto), SimulatedPlatform());
  CHECK(automatic.ok());
}

TEST_CASE("gpu in the configuration file accepts off, auto and required and names a bad value") {
  auto ok = ParseConfig("tee: snp\ngpu: required\n", "agent.yaml");
  REQUIRE(ok.ok());
  CHECK(ok->gpu == GpuSetting::kRequired);
  auto dflt = ParseConfig("tee: snp\n", "agent.yaml");
  REQUIRE(dflt.ok());
  CHECK(dflt->gpu == GpuSetting::kAuto);
  auto bad = ParseConfig("tee: snp\ngpu: yes\n", "agent.yaml");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("agent.yaml:2") != std::string::npos);
  CHECK(bad.status().message().find("off, auto or required") != std::string::npos);
}

// One KBS exchange with cvm-rp (the GPU policy `policy_extra`); *ready: whether the GPUs are
// ready afterwards (read before the collector, which owns the provider, goes away).
Result<AttestOutcome> AttestOnce(const std::string& policy_extra, bool* ready, std::string* audit) {
  TempDir dir;
  RpSetup setup;
  setup.policy_extra = policy_extra;
  setup.config_extra = "gpu:\n  device_roots: [" + Gpus().roots + "]\n";
  RelyingParty rp(dir, setup);
  Config config = GpuConfig(GpuSetting::kRequired);
  config.relying_parties.push_back(RelyingPartyConfig{rp.url(), "", "", "", rp.token_key()});
  gpu::SimGpuProvider* nvml = nullptr;
  KbsAttesterDeps deps;
  deps.new_http = HelperHttp();
  auto attester = NewKbsAttester(config, OpenWithGpus(config, kCcOn, &nvml), deps);
  REQUIRE(attester.ok());
  auto outcome = (*attester)->Attest(config.relying_parties[0], {"default/key/app"},
                                     SystemClock::Get().Now() + std::chrono::seconds(30));
  *ready = *nvml->Ready();
  *audit = rp.AuditText();
  return outcome;
}

TEST_CASE("The GPUs are marked ready after cvm-rp accepts their evidence, and not when denied") {
  bool ready = false;
  std::string audit;
  auto accepted = AttestOnce("  gpu: {count: 2, min_driver_version: \"550\"}\n", &ready, &audit);
  INFO(audit);
  REQUIRE(accepted.ok());
  CHECK(accepted->resources.count("default/key/app") == 1);
  CHECK(ready);

  auto denied = AttestOnce("  gpu: {min_driver_version: \"570.0\"}\n", &ready, &audit);
  INFO(audit);
  REQUIRE_FALSE(denied.ok());
  CHECK(denied.status().code() == Code::kRejected);
  CHECK(audit.find("driver 550.90.07 is below the minimum 570.0") != std::string::npos);
  CHECK_FALSE(ready);
}

}  // namespace
}  // namespace cvm::agent
