#include "agent/platform.h"

#include <catch2/catch.hpp>

#include "common/file_util.h"
#include "tests/testing/fake_tsm.h"
#include "tests/testing/testing.h"

namespace cvm::agent {
namespace {

using cvm::testing::TempDir;

Config WithTee(TeeSetting tee) {
  Config c;
  c.tee = tee;
  return c;
}

void Touch(const TempDir& dir, const std::string& rel) {
  std::string path = dir.path() + rel;
  REQUIRE(MakeDirs(path.substr(0, path.rfind('/'))).ok());
  REQUIRE(WriteFileAtomic(path, std::string_view("")).ok());
}

cvm::testing::FakeTsmFs::Generator NoReports() {
  return [](ByteSpan, uint32_t) -> Result<cvm::testing::FakeTsmOutput> {
    return Unavailable("not used");
  };
}

TEST_CASE("configfs-tsm is probed first and its provider names the TEE") {
  TempDir dir;
  Touch(dir, "/dev/tdx_guest");  // would say TDX, but configfs-tsm comes first
  cvm::testing::FakeTsmFs fs(dir.path() + kTsmReportRoot, "sev_guest", NoReports());
  PlatformEnv env{dir.path(), &fs, nullptr};
  auto p = DetectPlatform(WithTee(TeeSetting::kAuto), env);
  REQUIRE(p.ok());
  CHECK(p->kind == TeeKind::kSnp);
  CHECK(p->configfs_tsm);
  CHECK(p->found_by == "configfs-tsm provider sev_guest");
  CHECK_FALSE(p->simulated);
  CHECK(fs.live_entries() == 0);  // the probe entry was removed
}

TEST_CASE("The guest devices are found in order when there is no configfs-tsm") {
  TempDir dir;
  Touch(dir, "/dev/tdx_guest");
  auto p = DetectPlatform(WithTee(TeeSetting::kAuto), PlatformEnv{dir.path(), nullptr, nullptr});
  REQUIRE(p.ok());
  CHECK(p->kind == TeeKind::kTdx);
  CHECK(p->found_by == "/dev/tdx_guest");
  Touch(dir, "/dev/sev-guest");
  p = DetectPlatform(WithTee(TeeSetting::kAuto), PlatformEnv{dir.path(), nullptr, nullptr});
  REQUIRE(p.ok());
  CHECK(p->kind == TeeKind::kSnp);
}

TEST_CASE("Azure's HCL report in the TPM names a vTPM TEE") {
  TempDir dir;
  Bytes hcl = cvm::testing::ReadData("vectors/snp/azure-vtpm/hcl-report.bin");
  PlatformEnv env{dir.path(), nullptr, [hcl]() -> Result<Bytes> { return hcl; }};
  auto p = DetectPlatform(WithTee(TeeSetting::kAuto), env);
  REQUIRE(p.ok());
  CHECK(p->kind == TeeKind::kAzSnpVtpm);
  CHECK(p->found_by.find("HCL") != std::string::npos);
}

TEST_CASE("No TEE is an error listing what was probed, never a fallback") {
  TempDir dir;
  PlatformEnv env{dir.path(), nullptr,
                  []() -> Result<Bytes> { return NotFound("NV index not defined"); }};
  auto p = DetectPlatform(WithTee(TeeSetting::kAuto), env);
  REQUIRE(p.status().code() == Code::kNotFound);
  CHECK(p.status().message() ==
        "no confidential-computing TEE found (no configfs-tsm; no /dev/sev-guest; no "
        "/dev/tdx_guest; no Azure HCL report)");
}

TEST_CASE("A configured TEE that is not present is an error") {
  TempDir dir;
  Touch(dir, "/dev/sev-guest");
  auto p = DetectPlatform(WithTee(TeeSetting::kTdx), PlatformEnv{dir.path(), nullptr, nullptr});
  REQUIRE(p.status().code() == Code::kNotFound);
  CHECK(p.status().message().find("the configured TEE 'tdx' is not present") == 0);
  CHECK(p.status().message().find("/dev/sev-guest (snp)") != std::string::npos);
}

TEST_CASE("A simulated TEE is used only when configured, and says so") {
  TempDir dir;
  Config c = WithTee(TeeSetting::kSimSnp);
  c.sim_state_dir = dir.path();
  auto p = DetectPlatform(c, PlatformEnv{dir.path(), nullptr, nullptr});
  REQUIRE(p.ok());
  CHECK(p->kind == TeeKind::kSimSnp);
  CHECK(p->simulated);
  CHECK(p->found_by.find("SIMULATED") != std::string::npos);
  c.sim_state_dir.clear();
  CHECK(DetectPlatform(c, PlatformEnv{dir.path(), nullptr, nullptr}).status().code() ==
        Code::kInvalidInput);
}

TEST_CASE("configfs-tsm without a provider falls through to the devices") {
  TempDir dir;
  Touch(dir, "/dev/sev-guest");
  cvm::testing::FakeTsmFs fs(dir.path() + kTsmReportRoot, "", NoReports());
  auto p = DetectPlatform(WithTee(TeeSetting::kAuto), PlatformEnv{dir.path(), &fs, nullptr});
  REQUIRE(p.ok());
  CHECK(p->kind == TeeKind::kSnp);
  CHECK_FALSE(p->configfs_tsm);
}

}  // namespace
}  // namespace cvm::agent
