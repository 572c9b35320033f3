// Confidential GPUs end to end: simulated SNP + an NVML serving GPU reports -> Collect (the
// "nvidia" additional evidence bound by REPORT_DATA) -> the real cvm-rp with a GPU policy ->
// the resource released, or denied with the reason the policy gives. The simulated GPUs sign
// for the session's nonce like real ones; the real NVIDIA sample reports, signed for another
// nonce long ago, are served too and must be refused.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/file_util.h"
#include "evidence/jose.h"
#include "gpu/report.h"
#include "gpu/sim.h"
#include "tests/gpu/sim_gpus.h"
#include "tests/rp/http_client.h"
#include "tests/rp/rp_process.h"
#include "tests/testing/testing.h"

namespace cvm::rp::testing {
namespace {

using ::cvm::testing::TempDir;
using nlohmann::json;

gpu::testing::SimGpus& Gpus() { return gpu::testing::SharedSimGpus(); }

std::string GpuPolicy(const std::string& gpu_rule) {
  return Policy() + "  gpu: " + gpu_rule + "\n";
}

std::string GpuConfig() { return "gpu:\n  device_roots: [" + Gpus().roots + "]\n"; }

Attempt WithGpus(gpu::GpuProvider* nvml) {
  Attempt a;
  a.gpu = nvml;
  a.tweak = [](evidence::CollectRequest& r) { r.gpus = evidence::GpuMode::kRequired; };
  return a;
}

// The claims of the token (the JWT's payload; its signature is the client's concern).
json TokenClaims(const Reply& attest) {
  std::string token = attest.Json().value("token", "");
  size_t a = token.find('.');
  size_t b = token.find('.', a + 1);
  REQUIRE(b != std::string::npos);
  auto payload = Base64UrlDecode(token.substr(a + 1, b - a - 1));
  REQUIRE(payload.ok());
  return json::parse(payload->begin(), payload->end());
}

constexpr char kGoodGpuRule[] =
    "{count: 2, architectures: [hopper], min_driver_version: \"550.90\", "
    "min_vbios_version: \"96.00.9F.00.01\", cc_modes: [spt]}";

TEST_CASE("cvm-rp releases the resource to simulated SNP with two GPUs its GPU policy accepts",
          "[rp][integration][gpu]") {
  RpProcess rp(GpuPolicy(kGoodGpuRule), GpuConfig());
  auto key = evidence::TeeKeyPair::Generate();
  REQUIRE(key.ok());
  gpu::SimGpuProvider nvml(Gpus().gpus);
  KbsClient client(rp.https_base(), rp.ca_file());
  REQUIRE(client.Auth("snp").status == 200);
  Reply attest = client.Attest(SimAttestBody(client.nonce, key->PublicJwk(), WithGpus(&nvml)));
  INFO("audit: " << ReasonsOf(rp.LastAudit("attest")) << "\ncvm-rp: " << rp.Log());
  REQUIRE(attest.status == 200);
  // One EAR submod per device: cpu0, gpu0, gpu1.
  json claims = TokenClaims(attest);
  REQUIRE(claims["submods"].contains("gpu0"));
  REQUIRE(claims["submods"].contains("gpu1"));
  CHECK_FALSE(claims["submods"].contains("gpu2"));
  const json& g0 = claims["submods"]["gpu0"];
  CHECK(g0["ear.status"] == "affirming");
  CHECK(g0["ear.veraison.annotated-evidence"]["nvidia"]["config"]["driver_version"] == "550.90.07");
  CHECK(g0["ear.veraison.annotated-evidence"]["nvidia"]["arch"] == "HOPPER");
  CHECK_FALSE(claims["submods"]["cpu0"]["ear.veraison.annotated-evidence"]["snp"].contains("gpus"));
  Reply resource = client.Resource(kResource);
  REQUIRE(resource.status == 200);
  auto plain = key->Decrypt(resource.body);
  REQUIRE(plain.ok());
  CHECK(std::string(plain->view().begin(), plain->view().end()) == kSecret);
}

TEST_CASE("cvm-rp denies GPUs whose driver is older than the policy's minimum",
          "[rp][integration][gpu]") {
  RpProcess rp(GpuPolicy("{min_driver_version: \"560.35.03\"}"), GpuConfig());
  gpu::SimGpuProvider nvml(Gpus().gpus);
  KbsClient client(rp.http_base());
  REQUIRE(client.Auth("snp").status == 200);
  auto key = evidence::TeeKeyPair::Generate();
  REQUIRE(key.ok());
  Reply attest = client.Attest(SimAttestBody(client.nonce, key->PublicJwk(), WithGpus(&nvml)));
  ExpectAttestRefused(rp, client, attest, "gpu0 driver 550.90.07 is below the minimum 560.35.03");
  CHECK(HasReason(rp.LastAudit("attest"), "gpu1 driver"));
}

TEST_CASE("cvm-rp denies a GPU policy when the evidence carries no GPU", "[rp][integration][gpu]") {
  RpProcess rp(GpuPolicy("{count: 1}"), GpuConfig());
  KbsClient client(rp.http_base());
  REQUIRE(client.Auth("snp").status == 200);
  auto key = evidence::TeeKeyPair::Generate();
  REQUIRE(key.ok());
  Reply attest = client.Attest(SimAttestBody(client.nonce, key->PublicJwk()));
  ExpectAttestRefused(rp, client, attest, "requires GPUs but the evidence carries no GPU");
}

TEST_CASE("cvm-rp denies GPU counts and CC modes the policy does not accept",
          "[rp][integration][gpu]") {
  RpProcess rp(GpuPolicy("{count: 8, cc_modes: [ppcie]}"), GpuConfig());
  gpu::SimGpuProvider nvml(Gpus().gpus);
  KbsClient client(rp.http_base());
  REQUIRE(client.Auth("snp").status == 200);
  auto key = evidence::TeeKeyPair::Generate();
  REQUIRE(key.ok());
  Reply attest = client.Attest(SimAttestBody(client.nonce, key->PublicJwk(), WithGpus(&nvml)));
  ExpectAttestRefused(rp, client, attest, "2 GPUs, the rule requires 8");
  CHECK(HasReason(rp.LastAudit("attest"), "gpu0 CC mode SPT is not accepted"));
}

TEST_CASE("cvm-rp refuses GPUs chaining to a root it does not trust", "[rp][integration][gpu]") {
  RpProcess rp(GpuPolicy("{count: 2}"));  // NVIDIA's pinned root only
  gpu::SimGpuProvider nvml(Gpus().gpus);
  KbsClient client(rp.http_base());
  REQUIRE(client.Auth("snp").status == 200);
  auto key = evidence::TeeKeyPair::Generate();
  REQUIRE(key.ok());
  Reply attest = client.Attest(SimAttestBody(client.nonce, key->PublicJwk(), WithGpus(&nvml)));
  ExpectAttestRefused(rp, client, attest, "gpu0: ");
}

TEST_CASE("A fake NVML serving NVIDIA's real sample report is refused: it is not for this nonce",
          "[rp][integration][gpu]") {
  // The real H100 report and chain verify to NVIDIA's pinned root, but they were signed for
  // another nonce: replaying them into a session must fail (fail closed on freshness).
  RpProcess rp(GpuPolicy("{count: 1}"));
  gpu::FakeGpu real;
  real.info.arch = gpu::Architecture::kHopper;
  real.info.uuid = "GPU-sample";
  auto report = gpu::DecodeReportBytes(
      ::cvm::testing::ReadData("vectors/nvidia-gpu/nvtrust/hopperAttestationReport.txt"));
  REQUIRE(report.ok());
  real.report = *report;
  Bytes chain = ::cvm::testing::ReadData("vectors/nvidia-gpu/nvtrust/hopperCertChain.txt");
  real.chain_pem.assign(chain.begin(), chain.end());
  gpu::FakeGpuProvider nvml({real});
  KbsClient client(rp.http_base());
  REQUIRE(client.Auth("snp").status == 200);
  auto key = evidence::TeeKeyPair::Generate();
  REQUIRE(key.ok());
  Reply attest = client.Attest(SimAttestBody(client.nonce, key->PublicJwk(), WithGpus(&nvml)));
  ExpectAttestRefused(rp, client, attest, "gpu0: report nonce 931d8dd0");
  // Only the nonce failed: the chain to NVIDIA's root and the signature held.
  std::string reasons = ReasonsOf(rp.LastAudit("attest"));
  CHECK(reasons.find("chain") == std::string::npos);
  CHECK(reasons.find("signature") == std::string::npos);
}

}  // namespace
}  // namespace cvm::rp::testing
