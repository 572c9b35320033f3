#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/x509.h"
#include "gpu/evidence_json.h"
#include "gpu/nvml.h"
#include "gpu/sim.h"
#include "tests/gpu/fixtures.h"

namespace cvm::gpu {
namespace {

using namespace cvm::gpu::testing;  // NOLINT(google-build-using-namespace)

constexpr char kNvatNonce[] = "e97b23a1718095a0e9e35edca810768c70a6a5a389b705e753b197912bc11576";

std::string Text(const char* rel) {
  Bytes b = ReadVec(rel);
  return std::string(b.begin(), b.end());
}

VerifyOptions At() {
  VerifyOptions o;
  o.at = SampleTime();
  return o;
}

TEST_CASE("The NVIDIA SDK's single-GPU evidence JSON verifies with its nonce") {
  auto v = VerifyNvidiaEvidence(Text("nvat/hopper_evidence.json"), *HexDecode(kNvatNonce), At());
  REQUIRE(v.ok());
  REQUIRE(v->gpus.size() == 1);
  INFO(FirstReason(v->gpus[0].reasons));
  CHECK(v->verified);
  CHECK(v->gpus[0].report->opaque.driver_version.rfind("590.", 0) == 0);
  REQUIRE(v->gpus[0].report->opaque.feature_flag.has_value());
  CHECK(*v->gpus[0].report->opaque.feature_flag == 2);  // PPCIE
}

TEST_CASE("The four-GPU evidence JSON verifies every GPU") {
  auto v = VerifyNvidiaEvidence(Text("nvat/multi_gpu_hopper.json"), *HexDecode(kNvatNonce), At());
  REQUIRE(v.ok());
  REQUIRE(v->gpus.size() == 4);
  for (const auto& g : v->gpus) {
    INFO(FirstReason(g.reasons));
    CHECK(g.verified);
  }
  CHECK(v->verified);
  CHECK(v->gpus[0].ueid != v->gpus[1].ueid);
}

TEST_CASE("The evidence list with a wrong nonce rejects every GPU") {
  auto v = VerifyNvidiaEvidence(Text("nvat/multi_gpu_hopper.json"), Bytes(32, 0), At());
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  for (const auto& g : v->gpus) CHECK_FALSE(g.verified);
}

TEST_CASE("The Trustee carriage forms parse to the same evidence") {
  auto list = ParseEvidenceJson(Text("nvat/hopper_evidence.json"));
  REQUIRE(list.ok());
  std::string trustee = EvidenceListJson(*list);
  nlohmann::json wrapped = {{"nvidia", nlohmann::json::parse(trustee)}};
  nlohmann::json as_string = wrapped.dump();  // additional_evidence is a JSON string
  for (const std::string& form : {trustee, wrapped.dump(), as_string.dump()}) {
    auto again = ParseEvidenceJson(form);
    REQUIRE(again.ok());
    REQUIRE(again->size() == 1);
    CHECK((*again)[0].report == (*list)[0].report);
    CHECK((*again)[0].chain.size() == (*list)[0].chain.size());
  }
}

TEST_CASE("A hex report in the evidence JSON is accepted like Trustee does") {
  nlohmann::json j = nlohmann::json::array();
  j.push_back({{"arch", "HOPPER"},
               {"evidence", Text("nvtrust/hopperAttestationReport.txt")},
               {"certificate", Base64Encode(ReadVec("nvtrust/hopperCertChain.txt"))}});
  auto v = VerifyNvidiaEvidence(j.dump(), Nonce(NvtrustHopper()), At());
  REQUIRE(v.ok());
  CHECK(v->verified);
}

TEST_CASE("Malformed evidence JSON is unusable input naming the problem") {
  CHECK(ParseEvidenceJson("{").status().code() == Code::kInvalidInput);
  CHECK(ParseEvidenceJson("{}").status().code() == Code::kInvalidInput);
  auto a = ParseEvidenceJson(R"([{"arch":"HOPPER","certificate":"x"}])");
  REQUIRE_FALSE(a.ok());
  CHECK(a.status().ToString().find("evidence") != std::string::npos);
  auto b = ParseEvidenceJson(R"([{"arch":"AMPERE","evidence":"","certificate":""}])");
  CHECK(b.status().code() == Code::kInvalidInput);
  auto c = ParseEvidenceJson(R"([{"arch":"LS10","evidence":"","certificate":""}])");
  CHECK(c.status().code() == Code::kUnsupported);
}

// The four-GPU list's first entry with its certificate PEM replaced by `pem`.
std::string WithCertificatePem(const std::string& pem) {
  auto j = nlohmann::json::parse(Text("nvat/multi_gpu_hopper.json"));
  j[0]["certificate"] = Base64Encode(AsBytes(pem));
  return j.dump();
}

std::string ChainPem(const std::vector<Certificate>& chain) {
  std::string pem;
  for (const auto& c : chain) pem += c.Pem();
  return pem;
}

TEST_CASE("The certificates a list's GPUs share are read once and give the same chains") {
  auto list = ParseEvidenceJson(Text("nvat/multi_gpu_hopper.json"));
  REQUIRE(list.ok());
  REQUIRE(list->size() == 4);
  for (size_t i = 0; i < list->size(); ++i) {
    // Each entry alone, with nothing to share, reads to the same certificates.
    nlohmann::json one =
        nlohmann::json::array({nlohmann::json::parse(Text("nvat/multi_gpu_hopper.json"))[i]});
    auto alone = ParseEvidenceJson(one.dump());
    REQUIRE(alone.ok());
    const auto& a = (*alone)[0].chain;
    const auto& b = (*list)[i].chain;
    REQUIRE(a.size() == b.size());
    for (size_t k = 0; k < a.size(); ++k) CHECK(a[k].Der() == b[k].Der());
  }
  // The top three certificates are the same in every chain, the first two each GPU's own.
  const auto& first = (*list)[0].chain;
  const auto& second = (*list)[1].chain;
  REQUIRE(first.size() == 5);
  CHECK(first[0].Der() != second[0].Der());
  CHECK(first[1].Der() != second[1].Der());
  for (size_t k = 2; k < 5; ++k) CHECK(first[k].Der() == second[k].Der());
}

TEST_CASE("A GPU's certificate PEM is read as PEM_read_bio_X509 reads it, and no looser") {
  auto list = ParseEvidenceJson(Text("nvat/multi_gpu_hopper.json"));
  REQUIRE(list.ok());
  const auto& chain = (*list)[0].chain;
  const std::string pem = ChainPem(chain);

  SECTION("blocks of other kinds are skipped, the old X509 CERTIFICATE label is read") {
    std::string other = "-----BEGIN PUBLIC KEY-----\n" + Base64Encode(Bytes(40, 7)) +
                        "\n-----END PUBLIC KEY-----\n";
    std::string old = chain[0].Pem();
    for (const char* label : {"-----BEGIN ", "-----END "}) {
      size_t at = old.find(std::string(label) + "CERTIFICATE");
      REQUIRE(at != std::string::npos);
      old.insert(at + std::string(label).size(), "X509 ");
    }
    auto v = ParseEvidenceJson(
        WithCertificatePem(other + old + ChainPem({chain.begin() + 1, chain.end()})));
    REQUIRE(v.ok());
    REQUIRE((*v)[0].chain.size() == chain.size());
    for (size_t k = 0; k < chain.size(); ++k) CHECK((*v)[0].chain[k].Der() == chain[k].Der());
  }
  SECTION("a broken block, a certificate with trailing bytes, or no certificate is refused") {
    std::string broken = pem;
    broken.insert(broken.find("-----END"), "!!");
    Bytes padded = chain[0].Der();
    padded.push_back(0);
    std::string trailing = "-----BEGIN CERTIFICATE-----\n" + Base64Encode(padded) +
                           "\n-----END CERTIFICATE-----\n" + pem;
    std::string none = "-----BEGIN PUBLIC KEY-----\n" + Base64Encode(Bytes(40, 7)) +
                       "\n-----END PUBLIC KEY-----\n";
    for (const std::string& bad : {broken, trailing, none}) {
      auto v = ParseEvidenceJson(WithCertificatePem(bad));
      REQUIRE_FALSE(v.ok());
      CHECK(v.status().code() == Code::kInvalidInput);
      CHECK(v.status().ToString().find("entry 0") != std::string::npos);
      CHECK(v.status().ToString().find("\"certificate\"") != std::string::npos);
    }
  }
}

TEST_CASE("Collecting through a fake NVML gives each GPU's report for the nonce") {
  SimGpuOptions o1, o2;
  o2.serial = 2;
  SimGpu g1 = *SimGpu::Create(o1), g2 = *SimGpu::Create(o2);
  Bytes nonce(32, 0x5a);
  FakeGpuProvider nvml(
      {{{Architecture::kHopper, "GPU-1", "96.00.9F.00.01"}, *g1.Report(nonce), g1.ChainPem()},
       {{Architecture::kHopper, "GPU-2", "96.00.9F.00.01"}, *g2.Report(nonce), g2.ChainPem()}});
  auto ev = CollectEvidence(nvml, nonce);
  REQUIRE(ev.ok());
  REQUIRE(ev->size() == 2);
  CHECK(nvml.nonces() == std::vector<Bytes>{nonce, nonce});
  VerifyOptions vo;
  vo.at = std::chrono::system_clock::now();
  vo.nonce = nonce;
  vo.device_anchors = {g1.root(), g2.root()};
  auto v = VerifyEvidenceList(*ev, vo);
  REQUIRE(v.ok());
  CHECK(v->verified);
  CHECK(v->gpus[1].uuid == "GPU-2");
  CHECK_FALSE(*nvml.Ready());
  REQUIRE(MarkGpusReady(nvml).ok());
  CHECK(*nvml.Ready());
}

TEST_CASE("No GPU or CC mode off gives a clear unavailable message") {
  FakeGpuProvider none({});
  auto a = CollectEvidence(none, Bytes(32, 0));
  REQUIRE_FALSE(a.ok());
  CHECK(a.status().code() == Code::kUnavailable);
  CHECK(a.status().message().find("no NVIDIA GPU") != std::string::npos);
  SimGpu g = *SimGpu::Create({});
  FakeGpuProvider off(
      {{{Architecture::kHopper, "GPU-1", ""}, *g.Report(Bytes(32, 0)), g.ChainPem()}},
      CcState{false, false, false});
  auto b = CollectEvidence(off, Bytes(32, 0));
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().message().find("CC mode off") != std::string::npos);
}

TEST_CASE("An NVML failure while collecting names the GPU") {
  SimGpu g = *SimGpu::Create({});
  FakeGpuProvider nvml(
      {{{Architecture::kHopper, "GPU-1", ""}, *g.Report(Bytes(32, 0)), g.ChainPem()}});
  nvml.FailNextReport(Unavailable("nvmlDeviceGetConfComputeGpuAttestationReport: GPU is lost"));
  auto ev = CollectEvidence(nvml, Bytes(32, 0));
  REQUIRE_FALSE(ev.ok());
  CHECK(ev.status().ToString().find("gpu 0") != std::string::npos);
}

TEST_CASE("Opening NVML where it is not installed is unavailable with a clear message") {
  auto p = OpenNvml("libcvm-no-such-nvml.so.1");
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == Code::kUnavailable);
  CHECK(p.status().message().find("not installed") != std::string::npos);
}

}  // namespace
}  // namespace cvm::gpu
