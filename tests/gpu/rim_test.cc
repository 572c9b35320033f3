#include "gpu/rim.h"

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/file_util.h"
#include "gpu/verify.h"
#include "tests/gpu/fixtures.h"
#include "tests/testing/testing.h"

namespace cvm::gpu {
namespace {

using namespace cvm::gpu::testing;  // NOLINT(google-build-using-namespace)

constexpr char kDriverRim[] = "nvat/NV_GPU_DRIVER_GH100_550.144.03.xml";
constexpr char kVbiosRim[] = "nvtrust/1010_0200_882_96005E0001_PROD.swidtag";
constexpr char kMismatchRim[] =
    "nvat/NV_GPU_VBIOS_1010_0200_882_96005E0001_measurement_mismatch.xml";

RimVerifyOptions At(const char* time) {
  RimVerifyOptions o;
  o.at = *ParseTime(time);
  return o;
}

std::string Text(const char* rel) {
  Bytes b = ReadVec(rel);
  return std::string(b.begin(), b.end());
}

bool Has(const std::vector<std::string>& reasons, std::string_view needle) {
  for (const auto& r : reasons) {
    if (r.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST_CASE("The real driver RIM verifies to NVIDIA's RIM root with its version and 21 values") {
  auto r = VerifyRim(ReadVec(kDriverRim), At("2026-06-01T00:00:00Z"));
  REQUIRE(r.ok());
  CHECK(r->version == "550.144.03");
  CHECK(r->manufacturer_id == "5703");
  CHECK(r->name == "GH100");
  CHECK(r->Active().size() == 21);
  REQUIRE(r->signer.has_value());
  CHECK(r->signer->CommonName() == "HCC RIM L4 Signer");
}

TEST_CASE("Every real RIM verifies at a time its signer is valid") {
  for (const char* f : {kDriverRim, kVbiosRim, kMismatchRim}) {
    INFO(f);
    auto r = VerifyRim(ReadVec(f), At("2025-03-01T00:00:00Z"));
    INFO(r.status().ToString());
    CHECK(r.ok());
  }
}

TEST_CASE("A RIM whose signer has expired is rejected naming the certificate") {
  auto r = VerifyRim(ReadVec(kVbiosRim), At("2026-06-01T00:00:00Z"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kRejected);
  CHECK(r.status().ToString().find("expired") != std::string::npos);
}

TEST_CASE("A RIM with a broken signature value is rejected") {
  std::string t = Text(kDriverRim);
  size_t p = t.find("<ds:SignatureValue>") + std::string("<ds:SignatureValue>").size();
  t[p + 5] = t[p + 5] == 'A' ? 'B' : 'A';
  auto r = VerifyRim(AsBytes(t), At("2026-06-01T00:00:00Z"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kRejected);
  CHECK(r.status().message().find("rim signature") != std::string::npos);
}

TEST_CASE("A RIM with an edited golden value is rejected for its digest") {
  std::string t = Text(kDriverRim);
  size_t p = t.find("4a5e4b3d501fe31f");
  REQUIRE(p != std::string::npos);
  t[p] = '5';
  auto r = VerifyRim(AsBytes(t), At("2026-06-01T00:00:00Z"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kRejected);
}

TEST_CASE("A RIM signed by a chain to another root is rejected") {
  RimVerifyOptions o = At("2026-06-01T00:00:00Z");
  o.anchors = {*Certificate::FromPem(AsChars(ReadVec("nvtrust/verifier_device_root.pem")))};
  auto r = VerifyRim(ReadVec(kDriverRim), o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kRejected);
}

TEST_CASE("A RIM whose reference does not cover the whole document is rejected") {
  std::string t = Text(kDriverRim);
  size_t p = t.find("<ds:Reference URI=\"\"");
  REQUIRE(p != std::string::npos);
  t.replace(p, std::string("<ds:Reference URI=\"\"").size(), "<ds:Reference URI=\"#x\"");
  auto r = VerifyRim(AsBytes(t), At("2026-06-01T00:00:00Z"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("whole document") != std::string::npos);
}

TEST_CASE("Malformed RIM XML and a DOCTYPE are unusable input") {
  CHECK(ParseRim(AsBytes("<SoftwareIdentity")).status().code() == Code::kInvalidInput);
  CHECK(ParseRim(AsBytes("<!DOCTYPE x [<!ENTITY a 'b'>]><x/>")).status().code() ==
        Code::kInvalidInput);
  CHECK(ParseRim(AsBytes("<x/>")).status().code() == Code::kInvalidInput);
}

TEST_CASE("The matching VBIOS RIM's 12 active golden values equal the 535.86.09 report") {
  VerifyOptions o;
  o.at = SampleTime();
  o.nonce = Nonce(Nvat535());
  o.rims = {ReadVec(kVbiosRim)};
  auto v = VerifyGpu(Evidence(Nvat535()), o);
  REQUIRE(v.ok());
  INFO(FirstReason(v->reasons));
  CHECK(v->verified);
  CHECK(v->measurements == MeasurementStatus::kPartial);
  CHECK(v->vbios_rim == "96.00.5E.00.01");
  CHECK(Has(v->warnings, "no driver RIM"));
}

TEST_CASE("A RIM whose golden value differs is rejected naming the index") {
  VerifyOptions o;
  o.at = SampleTime();
  o.nonce = Nonce(Nvat535());
  o.rims = {ReadVec(kMismatchRim)};
  auto v = VerifyGpu(Evidence(Nvat535()), o);
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  CHECK(v->measurements == MeasurementStatus::kMismatch);
  CHECK(v->mismatched_indices == std::vector<unsigned>{9});
  CHECK(Has(v->reasons, "index 9 (block 10)"));
}

TEST_CASE("Requiring RIMs rejects a GPU whose driver RIM is missing") {
  VerifyOptions o;
  o.at = SampleTime();
  o.nonce = Nonce(Nvat535());
  o.rims = {ReadVec(kVbiosRim)};
  o.require_rims = true;
  auto v = VerifyGpu(Evidence(Nvat535()), o);
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  CHECK(Has(v->reasons, "no driver RIM"));
}

TEST_CASE("A given RIM with a broken signature is a reason for the GPU") {
  std::string t = Text(kVbiosRim);
  size_t p = t.find("<ds:SignatureValue>") + std::string("<ds:SignatureValue>").size();
  t[p + 3] = t[p + 3] == 'A' ? 'B' : 'A';
  VerifyOptions o;
  o.at = SampleTime();
  o.nonce = Nonce(Nvat535());
  o.rims = {ToBytes(AsBytes(t))};
  auto v = VerifyGpu(Evidence(Nvat535()), o);
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  CHECK(Has(v->reasons, "rim signature"));
}

TEST_CASE("RIMs are found in a cache directory by NVIDIA's RIM id") {
  cvm::testing::TempDir dir;
  REQUIRE(WriteFileAtomic(dir.File("NV_GPU_VBIOS_1010_0200_882_96005E0001.xml"), ReadVec(kVbiosRim))
              .ok());
  DirectoryRimSource src(dir.path());
  VerifyOptions o;
  o.at = SampleTime();
  o.nonce = Nonce(Nvat535());
  o.rim_source = &src;
  auto v = VerifyGpu(Evidence(Nvat535()), o);
  REQUIRE(v.ok());
  CHECK(v->verified);
  CHECK(v->measurements == MeasurementStatus::kPartial);
  CHECK(v->vbios_rim == "96.00.5E.00.01");
}

TEST_CASE("RIM ids follow NVIDIA's naming") {
  CHECK(DriverRimId(false, "", "550.90.07") == "NV_GPU_DRIVER_GH100_550.90.07");
  CHECK(DriverRimId(true, "GB100", "570.1") == "NV_GPU_CC_DRIVER_GB100_570.1");
  CHECK(VbiosRimId("G520", "0200", "882", "96.00.5E.00.01") ==
        "NV_GPU_VBIOS_G520_0200_882_96005E0001");
  DirectoryRimSource src("/nonexistent");
  CHECK(src.Fetch("../etc/passwd").status().code() == Code::kInvalidInput);
}

}  // namespace
}  // namespace cvm::gpu

namespace cvm::gpu {
namespace {

// Answers RIM service requests from a map of id -> XML, counting requests.
class FakeRimService final : public HttpClient {
 public:
  std::map<std::string, Bytes> rims;
  int requests = 0;
  Result<HttpResponse> Send(const HttpRequest& req) override {
    ++requests;
    HttpResponse resp;
    std::string id = req.url.substr(req.url.rfind('/') + 1);
    auto it = rims.find(id);
    if (it == rims.end()) {
      resp.status = 404;
      return resp;
    }
    nlohmann::json j = {{"id", id}, {"rim", Base64Encode(it->second)}, {"rim_format", "SWID"}};
    std::string body = j.dump();
    resp.status = 200;
    resp.body = Bytes(body.begin(), body.end());
    return resp;
  }
};

TEST_CASE("RIMs from the RIM service are verified and cached for offline use") {
  cvm::testing::TempDir dir;
  FakeRimService http;
  const std::string id = "NV_GPU_VBIOS_1010_0200_882_96005E0001";
  http.rims[id] = testing::ReadVec("nvtrust/1010_0200_882_96005E0001_PROD.swidtag");
  ServiceRimSource src(http, dir.File("rims"));
  VerifyOptions o;
  o.at = testing::SampleTime();
  o.nonce = testing::Nonce(testing::Nvat535());
  o.rim_source = &src;
  auto v = VerifyGpu(testing::Evidence(testing::Nvat535()), o);
  REQUIRE(v.ok());
  CHECK(v->verified);
  CHECK(v->measurements == MeasurementStatus::kPartial);
  CHECK(http.requests == 2);  // the driver RIM is unknown to the fake service
  auto again = VerifyGpu(testing::Evidence(testing::Nvat535()), o);
  REQUIRE(again.ok());
  CHECK(again->verified);
  CHECK(http.requests == 3);  // the VBIOS RIM came from the cache
  CHECK(DirectoryRimSource(dir.File("rims")).Fetch(id).ok());
}

TEST_CASE("A RIM service answer without a rim field is unusable and named") {
  class Broken final : public HttpClient {
   public:
    Result<HttpResponse> Send(const HttpRequest&) override {
      HttpResponse r;
      r.status = 200;
      r.body = ToBytes(AsBytes("{\"id\":\"x\"}"));
      return r;
    }
  } http;
  ServiceRimSource src(http, "");
  auto r = src.Fetch("NV_GPU_DRIVER_GH100_1.2.3");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("\"rim\"") != std::string::npos);
}

}  // namespace
}  // namespace cvm::gpu
