// GPUs in the bundle: Collect with a simulated NVML -> the "nvidia" additional evidence bound by
// REPORT_DATA -> VerifyBundle checking every GPU, the Trustee carriage both ways, and the GPU
// modes (off, auto, required) with and without usable GPUs.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "evidence/collect.h"
#include "evidence/trustee.h"
#include "gpu/evidence_json.h"
#include "gpu/sim.h"
#include "snp/sim.h"
#include "tests/evidence/sims.h"
#include "tests/gpu/sim_gpus.h"
#include "tests/testing/testing.h"

namespace cvm::evidence {
namespace {

using nlohmann::json;

const json kKey = {{"kty", "EC"},
                   {"crv", "P-256"},
                   {"alg", "ECDH-ES+A256KW"},
                   {"x", "p99tUVzkQLPubx7e0ZHNVHBnxIAFi2mtakO9cGsNoBA"},
                   {"y", "N7-qCNC6sxHBFkx65Anp3n1VXfLpKnWyPvXWuB4w4R0"}};
constexpr char kNonce[] = "Z3B1LWJ1bmRsZS10ZXN0LW5vbmNlLTMyLWJ5dGVzISE=";

// The binary's simulated SNP platform and pair of simulated GPUs.
struct World {
  cvm::testing::TempDir& dir = cvm::testing::SharedSnpSim().dir;
  std::optional<snp::SimSnp>& snp = cvm::testing::SharedSnpSim().sim;
  std::vector<gpu::SimGpu>& gpus = gpu::testing::SharedSimGpus().gpus;
  std::vector<Certificate> GpuRoots() const {
    std::vector<Certificate> out;
    for (const auto& g : gpus) out.push_back(g.root());
    return out;
  }
};
World& W() {
  static World w;
  return w;
}

CollectRequest Request(GpuMode mode) {
  CollectRequest r;
  r.kind = CollectKind::kSimSnp;
  r.sim_dir = W().dir.path();
  r.nonce = kNonce;
  r.tee_pubkey = kKey;
  r.gpus = mode;
  return r;
}

BundleVerifyOptions Options() {
  BundleVerifyOptions o;
  o.at = std::chrono::system_clock::now();
  o.snp_roots = {W().snp->ark()};
  o.expected_nonce = kNonce;
  o.expected_tee_pubkey = kKey;
  o.gpu.device_anchors = W().GpuRoots();
  return o;
}

Result<Bundle> CollectWith(gpu::GpuProvider* provider, GpuMode mode,
                           std::vector<std::string>* notes = nullptr) {
  CollectPlatform p;
  p.sim_snp = &*W().snp;
  p.gpu = provider;
  p.notes = notes;
  return Collect(Request(mode), p);
}

std::string Additional(const Bundle& b) {
  return (*b.runtime_data)["additional-evidence"].get<std::string>();
}

std::string All(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

TEST_CASE(
    "Collect puts every GPU under nvidia in the additional evidence that REPORT_DATA covers") {
  gpu::SimGpuProvider nvml(W().gpus);
  auto b = CollectWith(&nvml, GpuMode::kRequired);
  REQUIRE(b.ok());
  json add = json::parse(Additional(*b));
  REQUIRE(add.contains("nvidia"));
  REQUIRE(add["nvidia"]["device_evidence_list"].size() == 2);
  CHECK(add["nvidia"]["device_evidence_list"][0]["arch"] == "HOPPER");
  // The GPU nonce is the first 32 bytes of H(JCS({"nonce", "tee-pubkey"})).
  auto digest = RuntimeDataDigest(DigestAlg::kSha384, kNonce, kKey, "", false);
  REQUIRE(digest.ok());
  auto list = gpu::ParseEvidenceJson(add.dump());
  REQUIRE(list.ok());
  for (const auto& e : *list) {
    auto r = gpu::ParseReport(e.report);
    REQUIRE(r.ok());
    CHECK(r->nonce == Bytes(digest->begin(), digest->begin() + 32));
  }
}

TEST_CASE("VerifyBundle verifies every GPU and lists their claims in order") {
  gpu::SimGpuProvider nvml(W().gpus);
  auto b = CollectWith(&nvml, GpuMode::kRequired);
  REQUIRE(b.ok());
  auto v = VerifyBundle(*b, Options());
  REQUIRE(v.ok());
  INFO(All(v->reasons));
  CHECK(v->verified);
  REQUIRE(v->claims.gpus.size() == 2);
  CHECK(v->claims.gpus[0].arch == "HOPPER");
  CHECK(v->claims.gpus[0].driver_version == "550.90.07");
  CHECK(v->claims.gpus[0].vbios_version == "96.00.9F.00.01");
  CHECK(v->claims.gpus[0].cc_mode == "SPT");
  CHECK(v->claims.gpus[0].ueid != v->claims.gpus[1].ueid);
  CHECK_FALSE(v->claims.gpus[0].measurement_values.empty());
  json j = v->claims.ToJson();
  REQUIRE(j["gpus"].size() == 2);
  CHECK(j["gpus"][1]["config"]["driver_version"] == "550.90.07");
}

TEST_CASE("A GPU whose chain is not trusted is rejected, named by its position") {
  gpu::SimGpuProvider nvml(W().gpus);
  auto b = CollectWith(&nvml, GpuMode::kRequired);
  REQUIRE(b.ok());
  BundleVerifyOptions o = Options();
  o.gpu.device_anchors = {W().gpus[0].root()};  // gpu1's root is not trusted
  auto v = VerifyBundle(*b, o);
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  REQUIRE_FALSE(v->reasons.empty());
  CHECK(All(v->reasons).find("gpu1: ") != std::string::npos);
  CHECK(All(v->reasons).find("gpu0: ") == std::string::npos);
}

TEST_CASE("GPU reports made for another nonce are rejected even though REPORT_DATA covers them") {
  // A guest that binds GPU evidence of another session: the CPU report covers the string, but
  // the GPU nonce is not the one this runtime data gives.
  std::vector<gpu::GpuEvidence> stale;
  for (const auto& g : W().gpus) stale.push_back(g.Evidence(Bytes(32, 7)));
  json add = {{"nvidia", json::parse(gpu::EvidenceListJson(stale))}};
  CollectRequest r = Request(GpuMode::kOff);
  CollectPlatform p;
  p.sim_snp = &*W().snp;
  // Bind the stale evidence the way Collect would: through runtime data.
  auto digest = RuntimeDataDigest(DigestAlg::kSha384, kNonce, kKey, add.dump());
  REQUIRE(digest.ok());
  r.nonce.reset();
  r.report_data_raw = PadReportData(*digest);
  auto raw = Collect(r, p);
  REQUIRE(raw.ok());
  Bundle b = std::move(*raw);
  b.report_data_raw.reset();
  b.runtime_data =
      json{{"additional-evidence", add.dump()}, {"nonce", kNonce}, {"tee-pubkey", kKey}};
  auto v = VerifyBundle(b, Options());
  REQUIRE(v.ok());
  INFO(All(v->reasons));
  CHECK_FALSE(v->verified);
  CHECK(All(v->reasons).find("gpu0: ") != std::string::npos);
  CHECK(All(v->reasons).find("nonce") != std::string::npos);
  CHECK(All(v->reasons).find("REPORT_DATA") == std::string::npos);
}

TEST_CASE("Changing the GPU evidence after collection breaks the CPU binding") {
  gpu::SimGpuProvider nvml(W().gpus);
  auto b = CollectWith(&nvml, GpuMode::kRequired);
  REQUIRE(b.ok());
  json add = json::parse(Additional(*b));
  add["nvidia"]["device_evidence_list"].erase(1);  // hide a GPU
  (*b->runtime_data)["additional-evidence"] = add.dump();
  auto v = VerifyBundle(*b, Options());
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  CHECK(All(v->reasons).find("REPORT_DATA") != std::string::npos);
}

TEST_CASE("GPU evidence is required by the verifier but the bundle has none: rejected") {
  auto b = CollectWith(nullptr, GpuMode::kOff);
  REQUIRE(b.ok());
  BundleVerifyOptions o = Options();
  o.require_gpus = true;
  auto v = VerifyBundle(*b, o);
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  CHECK(All(v->reasons).find("GPU evidence is required") != std::string::npos);
  o.require_gpus = false;
  auto plain = VerifyBundle(*b, o);
  REQUIRE(plain.ok());
  CHECK(plain->verified);
  CHECK(plain->claims.gpus.empty());
}

TEST_CASE("The GPU evidence survives the Trustee carriage both ways and still verifies") {
  gpu::SimGpuProvider nvml(W().gpus);
  auto b = CollectWith(&nvml, GpuMode::kRequired);
  REQUIRE(b.ok());
  auto t = ToTrusteeEvidence(*b);
  REQUIRE(t.ok());
  CHECK(json::parse(t->additional).contains("nvidia"));
  auto back = FromTrusteeEvidence(TeeKind::kSnp, t->primary, t->additional, DigestAlg::kSha384,
                                  kNonce, kKey);
  REQUIRE(back.ok());
  auto v = VerifyBundle(*back, Options());
  REQUIRE(v.ok());
  INFO(All(v->reasons));
  CHECK(v->verified);
  CHECK(v->claims.gpus.size() == 2);
  // A file carries no runtime data, so its GPU evidence cannot be checked: refused, not ignored.
  json file = {{"primary_evidence", t->primary}, {"additional_evidence", t->additional}};
  auto from_file = FromTrusteeEvidenceFile(TeeKind::kSnp, file.dump());
  REQUIRE_FALSE(from_file.ok());
  CHECK(from_file.status().message().find("cvmctl gpu verify") != std::string::npos);
}

TEST_CASE("GPU mode auto without NVML or with CC mode off collects the CPU evidence alone") {
  std::vector<std::string> notes;
  auto none = CollectWith(nullptr, GpuMode::kAuto, &notes);
  REQUIRE(none.ok());
  CHECK(Additional(*none).empty());
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].find("no NVIDIA driver") != std::string::npos);

  notes.clear();
  gpu::SimGpuProvider off(W().gpus, gpu::CcState{false, false, false});
  auto cc_off = CollectWith(&off, GpuMode::kAuto, &notes);
  REQUIRE(cc_off.ok());
  CHECK(Additional(*cc_off).empty());
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].find("CC mode off") != std::string::npos);

  notes.clear();
  gpu::SimGpuProvider empty(std::vector<gpu::SimGpu>{});
  auto no_gpu = CollectWith(&empty, GpuMode::kAuto, &notes);
  REQUIRE(no_gpu.ok());
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].find("no NVIDIA GPU") != std::string::npos);
}

TEST_CASE("GPU mode required fails closed without usable GPUs") {
  auto none = CollectWith(nullptr, GpuMode::kRequired);
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().code() == Code::kUnavailable);
  gpu::SimGpuProvider off(W().gpus, gpu::CcState{false, false, false});
  auto cc_off = CollectWith(&off, GpuMode::kRequired);
  REQUIRE_FALSE(cc_off.ok());
  CHECK(cc_off.status().message().find("CC mode off") != std::string::npos);
  gpu::SimGpuProvider dev(W().gpus, gpu::CcState{true, true, false});
  auto devtools = CollectWith(&dev, GpuMode::kAuto);
  REQUIRE_FALSE(devtools.ok());  // developer-tools mode is refused, not silently dropped
  CHECK(devtools.status().code() == Code::kRejected);
}

TEST_CASE("GPU modes parse from their names and raw report data cannot bind GPUs") {
  CHECK(*ParseGpuMode("auto") == GpuMode::kAuto);
  CHECK(*ParseGpuMode("required") == GpuMode::kRequired);
  CHECK(*ParseGpuMode("off") == GpuMode::kOff);
  CHECK_FALSE(ParseGpuMode("on").ok());
  gpu::SimGpuProvider nvml(W().gpus);
  CollectRequest r = Request(GpuMode::kRequired);
  r.nonce.reset();
  r.report_data_raw = Bytes(64, 1);
  CollectPlatform p;
  p.sim_snp = &*W().snp;
  p.gpu = &nvml;
  auto b = Collect(r, p);
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().code() == Code::kInvalidInput);
}

}  // namespace
}  // namespace cvm::evidence
