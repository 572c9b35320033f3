#include "gpu/verify.h"

#include <catch2/catch.hpp>

#include "common/encoding.h"
#include "common/x509.h"
#include "gpu/rim.h"
#include "gpu/roots.h"
#include "gpu/sim.h"
#include "tests/gpu/fixtures.h"

namespace cvm::gpu {
namespace {

using namespace cvm::gpu::testing;  // NOLINT(google-build-using-namespace)

VerifyOptions Opts(const Sample& s) {
  VerifyOptions o;
  o.at = SampleTime();
  o.nonce = Nonce(s);
  return o;
}

bool Has(const std::vector<std::string>& reasons, std::string_view needle) {
  for (const auto& r : reasons) {
    if (r.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST_CASE("The built-in roots are NVIDIA's, by fingerprint") {
  CHECK(HexEncode(DeviceIdentityRoot().Fingerprint(DigestAlg::kSha256)) ==
        "102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48");
  CHECK(HexEncode(RimRoot().Fingerprint(DigestAlg::kSha256)) ==
        "12977b5115acb0381179279fffeb5a8c4d264971ebb32298023a465fa41df5d1");
  CHECK(DeviceIdentityRoot().Der() ==
        ParseCertificates(ReadVec("nvtrust/verifier_device_root.pem"))->front().Der());
}

TEST_CASE("Every real report sample verifies with its chain and nonce") {
  for (const Sample& s : AllReportSamples()) {
    INFO(s.name);
    auto v = VerifyGpu(Evidence(s), Opts(s));
    REQUIRE(v.ok());
    INFO(FirstReason(v->reasons));
    CHECK(v->verified);
    CHECK(v->reasons.empty());
    CHECK(v->arch == Architecture::kHopper);
    CHECK(v->hwmodel == "GH100 A01 GSP BROM");
    CHECK(v->nonce_checked);
  }
}

TEST_CASE("The nvtrust sample's FWID matches the leaf certificate") {
  auto v = VerifyGpu(Evidence(NvtrustHopper()), Opts(NvtrustHopper()));
  REQUIRE(v.ok());
  CHECK(v->fwid_checked);
  CHECK(v->fwid.rfind("f5c384ae", 0) == 0);
  CHECK(v->fwid.substr(v->fwid.size() - 4) == "f75d");
  CHECK_FALSE(v->ueid.empty());
}

TEST_CASE("A report without FWID verifies with a warning that FWID was not compared") {
  auto v = VerifyGpu(Evidence(Nvat535()), Opts(Nvat535()));
  REQUIRE(v.ok());
  CHECK(v->verified);
  CHECK_FALSE(v->fwid_checked);
  CHECK(Has(v->warnings, "no FWID"));
}

TEST_CASE("A wrong nonce is rejected, also the all-zero nonce") {
  VerifyOptions o = Opts(Nvat535());
  o.nonce = Bytes(32, 0);
  auto v = VerifyGpu(Evidence(Nvat535()), o);
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  CHECK(Has(v->reasons, "nonce"));
  o.nonce = Nonce(NvtrustHopper());
  auto w = VerifyGpu(Evidence(Nvat535()), o);
  REQUIRE(w.ok());
  CHECK_FALSE(w->verified);
}

TEST_CASE("Without an expected nonce the verdict says freshness was not checked") {
  VerifyOptions o = Opts(NvtrustHopper());
  o.nonce.reset();
  auto v = VerifyGpu(Evidence(NvtrustHopper()), o);
  REQUIRE(v.ok());
  CHECK_FALSE(v->nonce_checked);
  CHECK(Has(v->warnings, "nonce"));
}

TEST_CASE("Flipping any bit of the signed part is never accepted") {
  Sample s = NvtrustHopper();
  GpuEvidence e = Evidence(s);
  const size_t signed_size = e.report.size() - kSignatureSize;
  size_t rejected = 0, unusable = 0;
  for (size_t pos = 0; pos < signed_size; pos += 11) {
    GpuEvidence f = e;
    f.report[pos] ^= static_cast<uint8_t>(1u << (pos % 8));
    auto v = VerifyGpu(f, Opts(s));
    if (v.ok()) {
      INFO("byte " << pos);
      CHECK_FALSE(v->verified);
      ++rejected;
    } else {
      CHECK(v.status().code() == Code::kInvalidInput);
      ++unusable;
    }
  }
  CHECK(rejected > unusable);  // most flips keep the structure and fail the signature
}

TEST_CASE("A flipped measurement is rejected for the signature") {
  Sample s = NvtrustHopper();
  GpuEvidence e = Evidence(s);
  e.report[kRequestSize + kResponseHeaderSize + 7 + 10] ^= 0x80;  // inside block 1's value
  auto v = VerifyGpu(e, Opts(s));
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  CHECK(Has(v->reasons, "signature"));
}

TEST_CASE("A flipped signature is rejected") {
  Sample s = TrusteeCoco();
  GpuEvidence e = Evidence(s);
  e.report[e.report.size() - 1 - 1 - 20] ^= 0x01;  // inside s (before the trailing zero)
  auto v = VerifyGpu(e, Opts(s));
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  CHECK(Has(v->reasons, "signature"));
}

TEST_CASE("A chain missing an intermediate certificate is rejected") {
  Sample s = NvtrustHopper();
  GpuEvidence e = Evidence(s);
  e.chain.erase(e.chain.begin() + 2);  // the provisioner ICA
  auto v = VerifyGpu(e, Opts(s));
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  CHECK(Has(v->reasons, "certificate chain"));
}

TEST_CASE("A root-only chain is rejected: it needs the leaf and its issuer") {
  Sample s = NvtrustHopper();
  GpuEvidence e = Evidence(s);
  e.chain = *ParseCertificates(ReadVec("trustee/hopper_cert_chain_case2.txt"));
  auto v = VerifyGpu(e, Opts(s));
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  CHECK(Has(v->reasons, "at least the signing leaf"));
}

TEST_CASE("A chain without the leaf is rejected for the missing FWID extension") {
  Sample s = NvtrustHopper();
  GpuEvidence e = Evidence(s);
  e.chain = *ParseCertificates(ReadVec("trustee/hopper_cert_chain_case4.txt"));
  auto v = VerifyGpu(e, Opts(s));
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  CHECK(Has(v->reasons, "no FWID extension"));
  CHECK(Has(v->reasons, "signature"));
}

TEST_CASE("A report with another GPU's chain is rejected for FWID and signature") {
  Sample s = NvtrustHopper();
  GpuEvidence e = Evidence(s);
  e.chain = Evidence(TrusteeCoco()).chain;
  auto v = VerifyGpu(e, Opts(s));
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  CHECK(Has(v->reasons, "FWID"));
  CHECK(Has(v->reasons, "signature"));
}

TEST_CASE("A chain to another root is rejected even if self-consistent") {
  SimGpu sim = *SimGpu::Create({});
  Bytes nonce(32, 7);
  VerifyOptions o;
  o.at = std::chrono::system_clock::now();
  o.nonce = nonce;
  auto v = VerifyGpu(sim.Evidence(nonce), o);  // the built-in NVIDIA root
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  CHECK(Has(v->reasons, "certificate chain"));
}

TEST_CASE("A declared architecture that contradicts the chain is rejected") {
  Sample s = NvtrustHopper();
  GpuEvidence e = Evidence(s);
  e.arch = Architecture::kBlackwell;
  auto v = VerifyGpu(e, Opts(s));
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  CHECK(Has(v->reasons, "BLACKWELL"));
}

TEST_CASE("A simulated Blackwell GPU verifies through its DICE TcbInfo FWID") {
  SimGpuOptions so;
  so.arch = Architecture::kBlackwell;
  SimGpu sim = *SimGpu::Create(so);
  Bytes nonce(32, 0x42);
  VerifyOptions o;
  o.at = std::chrono::system_clock::now();
  o.nonce = nonce;
  o.device_anchors = {sim.root()};
  auto v = VerifyGpu(sim.Evidence(nonce), o);
  REQUIRE(v.ok());
  INFO(FirstReason(v->reasons));
  CHECK(v->verified);
  CHECK(v->arch == Architecture::kBlackwell);
  CHECK(v->fwid_checked);
  CHECK(v->report->opaque.chip_info == "GB100");
  CHECK(*LeafFwid(sim.chain()[0]) == sim.Fwid());
}

TEST_CASE("A simulated Hopper GPU with a different FWID in the report is rejected") {
  SimGpu a = *SimGpu::Create({});
  SimGpuOptions ob;
  ob.serial = 2;
  SimGpu b = *SimGpu::Create(ob);
  Bytes nonce(32, 1);
  GpuEvidence e = a.Evidence(nonce);
  // b's leaf and chain, a's report: signature and FWID both fail.
  e.chain = b.chain();
  VerifyOptions o;
  o.at = std::chrono::system_clock::now();
  o.nonce = nonce;
  o.device_anchors = {b.root()};
  auto v = VerifyGpu(e, o);
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  CHECK(Has(v->reasons, "FWID"));
}

TEST_CASE("An evidence list mixing SPT and MPT GPUs is rejected as a whole") {
  SimGpuOptions o1, o2;
  o1.serial = 1;
  o2.serial = 2;
  o2.feature_flag = 1;
  SimGpu g1 = *SimGpu::Create(o1), g2 = *SimGpu::Create(o2);
  Bytes nonce(32, 9);
  std::vector<GpuEvidence> list = {g1.Evidence(nonce), g2.Evidence(nonce)};
  VerifyOptions o;
  o.at = std::chrono::system_clock::now();
  o.nonce = nonce;
  o.device_anchors = {g1.root(), g2.root()};
  auto v = VerifyEvidenceList(list, o);
  REQUIRE(v.ok());
  CHECK(v->gpus[0].verified);
  CHECK(v->gpus[1].verified);
  CHECK_FALSE(v->verified);
  CHECK(Has(v->reasons, "SPT"));
}

TEST_CASE("An evidence list needs a nonce and at least one GPU") {
  VerifyOptions o;
  o.at = std::chrono::system_clock::now();
  CHECK(VerifyEvidenceList({}, o).status().code() == Code::kInvalidInput);
  o.nonce = Bytes(32, 0);
  auto v = VerifyEvidenceList({}, o);
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
}

TEST_CASE("GPU and RIM verification without a verification time are refused, not run at now") {
  VerifyOptions o;  // at left unset
  o.nonce = Bytes(32, 0);
  auto v = VerifyEvidenceList({}, o);
  REQUIRE_FALSE(v.ok());
  CHECK(v.status().message().find("no verification time") != std::string::npos);
  RimVerifyOptions ro;
  auto r = VerifyRim(AsBytes("<x/>"), ro);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("no verification time") != std::string::npos);
}

TEST_CASE("GpuNonce truncates a runtime-data hash to 32 bytes and refuses other sizes") {
  CHECK(GpuNonce(Bytes(32, 1))->size() == 32);
  Bytes h(48);
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint8_t>(i);
  CHECK(*GpuNonce(h) == Bytes(h.begin(), h.begin() + 32));
  CHECK_FALSE(GpuNonce(Bytes(31, 0)).ok());
  CHECK_FALSE(GpuNonce(Bytes(40, 0)).ok());
}

}  // namespace
}  // namespace cvm::gpu
