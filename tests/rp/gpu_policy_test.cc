// The policy's `gpu` mapping: parsing with file:line:col errors, and every GPU rule evaluated
// against GPU claims (fail closed without GPUs).
#include <catch2/catch.hpp>
#include <string>

#include "rp/policy.h"

namespace cvm::rp {
namespace {

using evidence::TeeKind;

std::string ErrorOf(const std::string& yaml) {
  auto p = ParsePolicy(yaml, "p.yaml");
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == Code::kInvalidInput);
  return p.status().message();
}

PolicyRule RuleOf(const std::string& gpu) {
  auto p = ParsePolicy("default:\n  tee: [snp]\n  gpu: " + gpu + "\n", "p.yaml");
  INFO((p.ok() ? std::string() : p.status().ToString()));
  REQUIRE(p.ok());
  return *p->default_rule;
}

evidence::GpuClaims Hopper(const std::string& driver = "550.90.07") {
  evidence::GpuClaims g;
  g.arch = "HOPPER";
  g.driver_version = driver;
  g.vbios_version = "96.00.9F.00.01";
  g.cc_mode = "SPT";
  g.measurements = "match";
  return g;
}

evidence::Claims WithGpus(std::vector<evidence::GpuClaims> gpus) {
  evidence::Claims c;
  c.tee = TeeKind::kSnp;
  c.gpus = std::move(gpus);
  return c;
}

std::string All(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

TEST_CASE("A GPU rule parses every key", "[rp][policy][gpu]") {
  PolicyRule r = RuleOf(
      "{count: 8, architectures: [hopper, Blackwell], min_driver_version: \"550.90.07\", "
      "min_vbios_version: \"96.00.9f.00.01\", cc_modes: [ppcie, mpt], require_rim_match: true}");
  REQUIRE(r.gpu);
  CHECK(r.gpu->count == 8u);
  CHECK(r.gpu->architectures == std::set<std::string>{"HOPPER", "BLACKWELL"});
  CHECK(r.gpu->min_driver_version == "550.90.07");
  CHECK(r.gpu->min_vbios_version == "96.00.9F.00.01");
  CHECK(r.gpu->cc_modes == std::set<std::string>{"PPCIE", "MPT"});
  CHECK(r.gpu->require_rim_match);
}

TEST_CASE("Bad GPU rules are refused naming file, line and key", "[rp][policy][gpu]") {
  const std::string head = "default:\n  tee: [snp]\n  gpu:\n";
  CHECK(ErrorOf(head + "    count: 0\n").find("p.yaml:4:") != std::string::npos);
  CHECK(ErrorOf(head + "    count: 0\n").find("default.gpu.count") != std::string::npos);
  CHECK(ErrorOf(head + "    architectures: [ampere]\n").find("unknown GPU architecture") !=
        std::string::npos);
  CHECK(ErrorOf(head + "    min_driver_version: 550.x\n").find("default.gpu.min_driver_version") !=
        std::string::npos);
  CHECK(ErrorOf(head + "    cc_modes: [on]\n").find("p.yaml:4") != std::string::npos);
  CHECK(ErrorOf(head + "    drivers: 1\n").find("default.gpu.drivers") != std::string::npos);
}

TEST_CASE("Versions compare per component, decimal for drivers and hex for VBIOS",
          "[rp][policy][gpu]") {
  CHECK(*CompareVersions("550.90.07", "550.127.05", 10) < 0);
  CHECK(*CompareVersions("570.0", "565.57.01", 10) > 0);
  CHECK(*CompareVersions("550.90", "550.90.00", 10) == 0);
  CHECK(*CompareVersions("96.00.9F.00.01", "96.00.A0.00.01", 16) < 0);
  CHECK_FALSE(CompareVersions("550..1", "550", 10).ok());
  CHECK_FALSE(CompareVersions("9F", "1", 10).ok());
}

TEST_CASE("GPUs that meet the rule are accepted", "[rp][policy][gpu]") {
  PolicyRule r = RuleOf(
      "{count: 2, architectures: [hopper], min_driver_version: \"550.90\", "
      "min_vbios_version: \"96.00.9F.00.01\", cc_modes: [spt], require_rim_match: true}");
  auto v = EvaluateRule(r, WithGpus({Hopper(), Hopper("565.57.01")}), std::chrono::seconds(1));
  INFO(All(v));
  CHECK(v.empty());
}

TEST_CASE("Every GPU rule violation is listed and names its GPU", "[rp][policy][gpu]") {
  PolicyRule r = RuleOf(
      "{count: 1, architectures: [blackwell], min_driver_version: \"560\", "
      "min_vbios_version: \"96.00.A0.00.00\", cc_modes: [ppcie], require_rim_match: true}");
  evidence::GpuClaims g = Hopper();
  g.measurements = "not checked";
  g.cc_mode = "";
  std::string all = All(EvaluateRule(r, WithGpus({g, Hopper()}), std::chrono::seconds(1)));
  CHECK(all.find("2 GPUs, the rule requires 1") != std::string::npos);
  CHECK(all.find("gpu0 architecture HOPPER is not accepted") != std::string::npos);
  CHECK(all.find("gpu0 driver 550.90.07 is below the minimum 560") != std::string::npos);
  CHECK(all.find("gpu1 driver 550.90.07") != std::string::npos);
  CHECK(all.find("gpu0 VBIOS 96.00.9F.00.01 is below the minimum 96.00.A0.00.00") !=
        std::string::npos);
  CHECK(all.find("gpu0 CC mode (not stated) is not accepted") != std::string::npos);
  CHECK(all.find("gpu0 measurements are not checked") != std::string::npos);
}

TEST_CASE("A GPU rule refuses evidence without GPUs; a rule without one ignores them",
          "[rp][policy][gpu]") {
  PolicyRule r = RuleOf("{}");
  auto v = EvaluateRule(r, WithGpus({}), std::chrono::seconds(1));
  REQUIRE(v.size() == 1);
  CHECK(v[0].find("requires GPUs") != std::string::npos);
  auto plain = ParsePolicy("default:\n  tee: [snp]\n", "p.yaml");
  REQUIRE(plain.ok());
  CHECK(EvaluateRule(*plain->default_rule, WithGpus({Hopper()}), std::chrono::seconds(1)).empty());
}

}  // namespace
}  // namespace cvm::rp
