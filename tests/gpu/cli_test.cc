// cvmctl's GPU verbs, run as a process (exit codes and output are the contract).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/gpu/fixtures.h"
#include "tests/testing/testing.h"

namespace cvm::gpu {
namespace {

using cvm::gpu::testing::Vec;
using cvm::testing::ProcessResult;

constexpr char kAt[] = "--at=2025-03-01T00:00:00Z";
constexpr char kNvtrustNonce[] = "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb";
constexpr char k535Nonce[] = "27a328247bf7935c993341cf587be6f05986ccce4fe7ba2c54100bd616a58f66";
constexpr char kNvatNonce[] = "e97b23a1718095a0e9e35edca810768c70a6a5a389b705e753b197912bc11576";

ProcessResult Cvmctl(std::vector<std::string> args) {
  args.insert(args.begin(), cvm::testing::BinaryDir() + "/cli/cvmctl");
  return cvm::testing::Run(args);
}

TEST_CASE("cvmctl gpu verify accepts the nvtrust sample with its nonce") {
  auto r = Cvmctl({"gpu", "verify", "--report", Vec("nvtrust/hopperAttestationReport.txt"),
                   "--certs", Vec("nvtrust/hopperCertChain.txt"), "--nonce", kNvtrustNonce, kAt});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("HOPPER verified, driver 550.90.07") != std::string::npos);
}

TEST_CASE("cvmctl gpu verify --json prints one object with a gpus list") {
  auto r = Cvmctl({"gpu", "verify", "--json", "--report", Vec("trustee/hopper_coco_report1.txt"),
                   "--certs", Vec("trustee/hopper_coco_certs1.txt"), "--nonce",
                   "87d8e24ab336adafe228d49e83d745f6dba4ae505372b6a5704820856b343fece279b616efefc2"
                   "aae21da80cf5581250",
                   kAt});
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["verified"] == true);
  REQUIRE(j["gpus"].size() == 1);
  CHECK(j["gpus"][0]["architecture"] == "HOPPER");
  CHECK(j["gpus"][0]["driver_version"] == "580.95.05");
  CHECK(j["gpus"][0]["vbios_version"] == "96.00.74.00.1A");
  CHECK(j["gpus"][0]["verified"] == true);
  CHECK(j["gpus"][0]["reasons"].empty());
  CHECK(j["gpus"][0]["fwid_checked"] == true);
}

TEST_CASE("cvmctl gpu verify rejects a wrong nonce with exit 1 and the reason") {
  auto r = Cvmctl({"gpu", "verify", "--report", Vec("nvtrust/hopperAttestationReport.txt"),
                   "--certs", Vec("nvtrust/hopperCertChain.txt"), "--nonce", k535Nonce, kAt});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("nonce") != std::string::npos);
}

TEST_CASE("cvmctl gpu verify names the mismatching RIM index") {
  auto r =
      Cvmctl({"gpu", "verify", "--json", "--report", Vec("nvat/hopper_535.86.09_report.txt"),
              "--certs", Vec("nvat/hopper_535.86.09_certchain.txt"), "--nonce", k535Nonce, "--rim",
              Vec("nvat/NV_GPU_VBIOS_1010_0200_882_96005E0001_measurement_mismatch.xml"), kAt});
  CHECK(r.exit_code == 1);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["gpus"][0]["measurements"] == "mismatch");
  CHECK(j["gpus"][0]["mismatched_indices"] == nlohmann::json::array({9}));
  CHECK(r.err.find("index 9") != std::string::npos);
}

TEST_CASE("cvmctl gpu verify --evidence verifies every GPU of the list") {
  auto r = Cvmctl({"gpu", "verify", "--json", "--evidence", Vec("nvat/multi_gpu_hopper.json"),
                   "--nonce", kNvatNonce, kAt});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["gpus"].size() == 4);
}

TEST_CASE("cvmctl gpu verify refuses options that do not apply, with exit 2") {
  CHECK(Cvmctl({"gpu", "verify", "--evidence", Vec("nvat/hopper_evidence.json")}).exit_code == 2);
  CHECK(Cvmctl({"gpu", "verify", "--evidence", Vec("nvat/hopper_evidence.json"), "--nonce",
                kNvatNonce, "--certs", Vec("nvtrust/hopperCertChain.txt")})
            .exit_code == 2);
  CHECK(
      Cvmctl({"gpu", "verify", "--report", Vec("nvtrust/hopperAttestationReport.txt")}).exit_code ==
      2);
  CHECK(Cvmctl({"gpu", "verify", "--report", Vec("nvtrust/hopperCertChain.txt"), "--certs",
                Vec("nvtrust/hopperCertChain.txt")})
            .exit_code == 2);
  CHECK(Cvmctl({"gpu", "verify", "--report", Vec("nvtrust/hopperAttestationReport.txt"), "--certs",
                Vec("nvtrust/hopperCertChain.txt"), "--nonce", "abcd"})
            .exit_code == 2);
}

TEST_CASE("cvmctl gpu rim verify checks a RIM at a given time") {
  auto ok =
      Cvmctl({"gpu", "rim", "verify", "--json", Vec("nvat/NV_GPU_DRIVER_GH100_550.144.03.xml"),
              "--at", "2026-06-01T00:00:00Z"});
  REQUIRE(ok.exit_code == 0);
  auto j = nlohmann::json::parse(ok.out);
  CHECK(j["version"] == "550.144.03");
  CHECK(j["active_values"].size() == 21);
  auto expired =
      Cvmctl({"gpu", "rim", "verify", Vec("nvtrust/1010_0200_882_96005E0001_PROD.swidtag"), "--at",
              "2026-06-01T00:00:00Z"});
  CHECK(expired.exit_code == 1);
  CHECK(expired.err.find("expired") != std::string::npos);
  CHECK(Cvmctl({"gpu", "rim", "verify", Vec("nvtrust/hopperCertChain.txt")}).exit_code == 2);
}

TEST_CASE("cvmctl gpu evidence without NVML exits 3 with a clear message") {
  auto r = Cvmctl({"gpu", "evidence", "--nonce", kNvatNonce, "--nvml", "libcvm-no-such-nvml.so.1"});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("not installed") != std::string::npos);
}

}  // namespace
}  // namespace cvm::gpu
