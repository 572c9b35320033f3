// The policy file: parsing with file:line:col errors, rule selection, evaluation.
#include "rp/policy.h"

#include <catch2/catch.hpp>
#include <string>

#include "common/encoding.h"
#include "tests/rp/rp_process.h"
#include "tests/testing/testing.h"

namespace cvm::rp {
namespace {

using evidence::TeeKind;

const std::string kM(96, 'a');

std::string ErrorOf(const std::string& yaml) {
  auto p = ParsePolicy(yaml, "p.yaml");
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == Code::kInvalidInput);
  return p.status().message();
}

evidence::Claims SnpClaims() {
  evidence::Claims c;
  c.tee = TeeKind::kSnp;
  c.measurement = *HexDecode(kM);
  c.tcb = {{"bootloader", 3}, {"tee", 0}, {"snp", 8}, {"microcode", 115}};
  return c;
}

TEST_CASE("A policy with a default and resource rules parses", "[rp][policy]") {
  auto p = ParsePolicy(
      "version: 1\n"
      "default:\n"
      "  tee: [snp, az-snp-vtpm]\n"
      "  snp_measurements: [" +
          kM +
          "]\n"
          "  min_tcb: {bootloader: 3, snp: 8}\n"
          "  max_evidence_age: 5m\n"
          "resources:\n"
          "  \"default/key/*\":\n"
          "    tee: tdx\n"
          "    tcb_statuses: [UpToDate]\n"
          "    rtmrs: {2: [" +
          std::string(96, 'b') +
          "]}\n"
          "    pcrs: {sha256: {7: [" +
          std::string(64, 'c') + "]}}\n",
      "p.yaml");
  REQUIRE(p.ok());
  REQUIRE(p->default_rule);
  CHECK(p->default_rule->tee.size() == 2);
  CHECK(p->default_rule->max_evidence_age == std::chrono::seconds(300));
  CHECK(p->default_rule->min_tcb.at("snp") == 8);
  REQUIRE(p->resources.size() == 1);
  CHECK(p->resources[0].rtmrs.at(2).size() == 1);
  CHECK(p->resources[0].pcrs.at(DigestAlg::kSha256).at(7).size() == 1);
  CHECK(p->digest.rfind("sha256:", 0) == 0);
}

TEST_CASE("Policy errors name the file, line and column", "[rp][policy]") {
  CHECK(ErrorOf("default:\n  tee: [snp]\n  colour: blue\n") ==
        "p.yaml:3:3: default.colour: unknown key");
  CHECK(ErrorOf("default:\n  tee: [snp]\n  snp_measurements: [abcd]\n")
            .rfind("p.yaml:3:22: default.snp_measurements:", 0) == 0);
  CHECK(ErrorOf("default:\n  allow_debug: false\n") ==
        "p.yaml:2:3: default: missing required key 'tee'");
  CHECK(ErrorOf("default:\n  tee: [sgx]\n").rfind("p.yaml:2:8: default.tee:", 0) == 0);
  CHECK(ErrorOf("default:\n  tee: [snp]\n  max_evidence_age: 5d\n")
            .find("unknown duration unit 'd'") != std::string::npos);
  CHECK(ErrorOf("default: [\n").rfind("p.yaml:", 0) == 0);
  CHECK(ErrorOf("resources:\n  \"a/../b\":\n    tee: snp\n").rfind("p.yaml:2:3: resources:", 0) ==
        0);
  CHECK(ErrorOf("version: 1\n") ==
        "p.yaml:1:1: the policy has no rule: nothing could ever be "
        "released");
  CHECK(ErrorOf("default:\n  tee: [snp]\n  min_tcb: {ucode: 1}\n").find("unknown TCB component") !=
        std::string::npos);
}

TEST_CASE("The most specific resource rule governs, else the default", "[rp][policy]") {
  auto p = ParsePolicy(
      "default: {tee: snp}\n"
      "resources:\n"
      "  \"a/*/*\": {tee: tdx}\n"
      "  \"a/b/*\": {tee: az-snp-vtpm}\n"
      "  \"a/b/c\": {tee: az-tdx-vtpm}\n",
      "p.yaml");
  REQUIRE(p.ok());
  CHECK(p->RuleFor("a/b/c")->name == "a/b/c");
  CHECK(p->RuleFor("a/b/d")->name == "a/b/*");
  CHECK(p->RuleFor("a/x/d")->name == "a/*/*");
  CHECK(p->RuleFor("z/x/d")->name == "default");
  auto no_default = ParsePolicy("resources:\n  \"a/b/c\": {tee: snp}\n", "p.yaml");
  REQUIRE(no_default.ok());
  CHECK(no_default->RuleFor("a/b/d") == nullptr);
}

TEST_CASE("Evaluation lists every violation of a rule", "[rp][policy]") {
  auto p = ParsePolicy(
      "default:\n"
      "  tee: snp\n"
      "  snp_measurements: [" +
          std::string(96, 'b') +
          "]\n"
          "  min_tcb: {snp: 9, microcode: 200, fmc: 1}\n"
          "  min_guest_svn: 2\n"
          "  max_evidence_age: 60\n",
      "p.yaml");
  REQUIRE(p.ok());
  evidence::Claims c = SnpClaims();
  c.debug = true;
  auto v = EvaluateRule(*p->default_rule, c, std::chrono::seconds(61));
  CHECK(v.size() == 7);
  CHECK(std::find(v.begin(), v.end(), "TCB snp 8 is below the minimum 9") != v.end());
  CHECK(std::find(v.begin(), v.end(), "TCB component fmc is not reported") != v.end());
  CHECK(std::find(v.begin(), v.end(), "debug guest refused (allow_debug is false)") != v.end());
  CHECK(std::find(v.begin(), v.end(), "evidence is 61s old, more than the 60s allowed") != v.end());
}

TEST_CASE("Claims that meet a rule have no violation", "[rp][policy]") {
  auto p = ParsePolicy(
      "default:\n  tee: snp\n  snp_measurements: [" + kM + "]\n  min_tcb: {snp: 8}\n", "p.yaml");
  REQUIRE(p.ok());
  CHECK(EvaluateRule(*p->default_rule, SnpClaims(), std::chrono::seconds(1)).empty());
}

TEST_CASE("SNP rules check the ID and author key digests of the launch's ID block",
          "[rp][policy]") {
  const std::string id(96, 'b'), author(96, 'c');
  auto p = ParsePolicy("default:\n  tee: snp\n  snp_id_key_digests: [" + id +
                           "]\n  snp_author_key_digests: [" + author + "]\n",
                       "p.yaml");
  REQUIRE(p.ok());
  evidence::Claims c = SnpClaims();
  c.id_key_digest = *HexDecode(id);
  c.author_key_digest = *HexDecode(author);
  CHECK(EvaluateRule(*p->default_rule, c, std::chrono::seconds(0)).empty());
  // Launched without an ID block: both digests are zero.
  c.id_key_digest = Bytes(48, 0);
  c.author_key_digest = Bytes(48, 0);
  auto v = EvaluateRule(*p->default_rule, c, std::chrono::seconds(0));
  REQUIRE(v.size() == 2);
  CHECK(v[0].find("ID key digest") != std::string::npos);
  CHECK(v[1].find("author key digest") != std::string::npos);
  CHECK(ErrorOf("default: {tee: snp, snp_id_key_digests: [abcd]}\n").find("snp_id_key_digests") !=
        std::string::npos);
}

TEST_CASE("cvmctl policy generate --format rp writes a cvm-rp policy for exactly one image",
          "[rp][policy]") {
  const std::string id(96, 'b'), host(64, 'd');
  auto r =
      cvm::testing::Run({testing::Cvmctl(), "policy", "generate", "--format", "rp", "--measurement",
                         kM, "--id-key-digest", id, "--host-data", host, "--min-tcb",
                         "bootloader=3,tee=0,snp=8,microcode=115", "--min-guest-svn", "2"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto p = ParsePolicy(r.out, "generated.yaml");
  INFO(r.out);
  REQUIRE(p.ok());
  evidence::Claims c = SnpClaims();
  c.id_key_digest = *HexDecode(id);
  c.host_data = *HexDecode(host);
  c.guest_svn = 2;
  CHECK(EvaluateRule(*p->default_rule, c, std::chrono::seconds(0)).empty());
  evidence::Claims other = c;
  other.measurement[0] ^= 1;
  CHECK(EvaluateRule(*p->default_rule, other, std::chrono::seconds(0)).size() == 1);
  other = c;
  other.debug = true;
  CHECK_FALSE(EvaluateRule(*p->default_rule, other, std::chrono::seconds(0)).empty());
  other = c;
  other.simulated_root = true;
  CHECK_FALSE(EvaluateRule(*p->default_rule, other, std::chrono::seconds(0)).empty());

  // FAMILY_ID / IMAGE_ID / VMPL have no cvm-rp key: refused, not dropped.
  auto family = cvm::testing::Run({testing::Cvmctl(), "policy", "generate", "--format", "rp",
                                   "--measurement", kM, "--family-id", std::string(32, '1')});
  CHECK(family.exit_code == 2);
  CHECK(family.err.find("FAMILY_ID") != std::string::npos);
  auto vmpl = cvm::testing::Run({testing::Cvmctl(), "policy", "generate", "--format", "rp",
                                 "--measurement", kM, "--vmpl", "0"});
  CHECK(vmpl.exit_code == 2);
}

TEST_CASE("TDX rules check MRTD, RTMRs, MRCONFIGID, TCB status and advisories", "[rp][policy]") {
  auto p = ParsePolicy(
      "default:\n  tee: tdx\n"
      "  mrtd: [" +
          kM +
          "]\n"
          "  mrconfigid: [" +
          std::string(96, '0') +
          "]\n"
          "  rtmrs: {1: [" +
          kM +
          "]}\n"
          "  tcb_statuses: [UpToDate]\n"
          "  advisories: [INTEL-SA-00837]\n",
      "p.yaml");
  REQUIRE(p.ok());
  evidence::Claims c;
  c.tee = TeeKind::kTdx;
  c.measurement = *HexDecode(kM);
  c.host_data = Bytes(48, 0);
  c.rtmrs = {Bytes(48, 0), *HexDecode(kM), Bytes(48, 0), Bytes(48, 0)};
  c.tcb_status = "UpToDate";
  c.advisories = {"INTEL-SA-00837"};
  CHECK(EvaluateRule(*p->default_rule, c, std::chrono::seconds(0)).empty());
  c.tcb_status = "OutOfDate";
  c.advisories.push_back("INTEL-SA-00999");
  c.rtmrs[1] = Bytes(48, 1);
  auto v = EvaluateRule(*p->default_rule, c, std::chrono::seconds(0));
  CHECK(v.size() == 3);
  c.tcb_status.reset();
  CHECK(EvaluateRule(*p->default_rule, c, std::chrono::seconds(0)).size() == 3);
}

TEST_CASE("Simulated roots are refused unless a rule allows them", "[rp][policy]") {
  auto strict = ParsePolicy("default: {tee: snp}\n", "p.yaml");
  auto lenient = ParsePolicy("default: {tee: snp, allow_simulated: true}\n", "p.yaml");
  REQUIRE(strict.ok());
  REQUIRE(lenient.ok());
  evidence::Claims c = SnpClaims();
  c.simulated_root = true;
  CHECK(EvaluateRule(*strict->default_rule, c, std::chrono::seconds(0)).size() == 1);
  CHECK(EvaluateRule(*lenient->default_rule, c, std::chrono::seconds(0)).empty());
}

}  // namespace
}  // namespace cvm::rp
