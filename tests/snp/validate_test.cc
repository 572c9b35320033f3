#include "snp/validate.h"

#include <catch2/catch.hpp>

#include "common/encoding.h"
#include "common/file_util.h"
#include "snp/policy.h"
#include "tests/snp/fixtures.h"
#include "tests/testing/testing.h"

namespace cvm::snp {
namespace {

Report Genoa() { return *ParseReport(testing::RealVector("genoa-v3").report); }

TEST_CASE("A report matching every expected value has no violations") {
  Report r = Genoa();
  ValidationOptions o;
  o.measurements = {Bytes(r.measurement.begin(), r.measurement.end())};
  o.host_data = Bytes(r.host_data.begin(), r.host_data.end());
  o.min_guest_svn = 2;
  o.min_reported_tcb = DecodeTcb(r.reported_tcb, Product::kGenoa);
  o.vmpl = 0;
  o.signing_keys = {SigningKey::kVcek};
  CHECK(FindViolations(r, Product::kGenoa, o).empty());
  CHECK(ValidateReport(r, Product::kGenoa, o).ok());
}

TEST_CASE("Validation reports every violation, not only the first") {
  Report r = Genoa();
  ValidationOptions o;
  o.measurements = {Bytes(48, 0)};
  o.host_data = Bytes(32, 1);
  o.min_guest_svn = 3;
  o.vmpl = 1;
  o.min_reported_tcb = TcbParts{.fmc = 0, .bootloader = 11, .tee = 0, .snp = 0, .microcode = 0};
  auto v = FindViolations(r, Product::kGenoa, o);
  CHECK(v.size() == 5);
  Status s = ValidateReport(r, Product::kGenoa, o);
  CHECK(s.code() == Code::kRejected);
  CHECK(s.message().find("5 violations") != std::string::npos);
  CHECK(s.message().find("measurement") != std::string::npos);
  CHECK(s.message().find("reported_tcb") != std::string::npos);
}

TEST_CASE("Debug and migration-agent policies are refused unless allowed") {
  Report r = *ParseReport(testing::RealVector("milan-v2").report);  // DEBUG set
  ValidationOptions o;
  auto v = FindViolations(r, Product::kMilan, o);
  REQUIRE(v.size() == 1);
  CHECK(v[0].find("DEBUG") != std::string::npos);
  o.allow_debug = true;
  CHECK(FindViolations(r, Product::kMilan, o).empty());
}

TEST_CASE("Platform-info and policy bits are checked when named") {
  Report r = Genoa();
  ValidationOptions o;
  o.platform_smt_enabled = false;  // the Genoa platform has SMT on
  o.policy_single_socket = true;
  CHECK(FindViolations(r, Product::kGenoa, o).size() == 2);
}

TEST_CASE("A YAML policy fills the options it names") {
  auto o = ParsePolicy(R"(
tee: snp
measurements:
  - 5feee30d6d7e1a29f403d70a4198237ddfb13051a2d6976439487c609388ed7f981898879 20ab2fa0096903a0c23fca1
min_tcb:
  reported: {bootloader: 10, tee: 0, snp: 23, microcode: 84}
min_version: "1.55"
vmpl: 0
guest_policy: {smt: true}
signing_keys: [vcek]
)");
  CHECK(o.status().code() == Code::kInvalidInput);  // the space in the hex is caught
  auto good = ParsePolicy(R"(
measurements: [5feee30d6d7e1a29f403d70a4198237ddfb13051a2d6976439487c609388ed7f98189887920ab2fa0096903a0c23fca1]
min_tcb:
  reported: {bootloader: 10, tee: 0, snp: 23, microcode: 84}
min_version: "1.55"
min_guest_svn: 2
vmpl: 0
guest_policy: {smt: true}
signing_keys: [vcek]
)");
  REQUIRE(good.ok());
  CHECK(good->measurements.size() == 1);
  CHECK(good->min_version == std::pair<uint8_t, uint8_t>{1, 55});
  CHECK(FindViolations(Genoa(), Product::kGenoa, *good).empty());
}

TEST_CASE("An unknown policy key is refused with its name and line") {
  auto o = ParsePolicy("vmpl: 0\nmin_tcb:\n  reportd: {snp: 1}\n");
  CHECK(o.status().code() == Code::kInvalidInput);
  CHECK(o.status().message().find("min_tcb.reportd (line 3, column 3)") != std::string::npos);
  CHECK(o.status().message().find("unknown key") != std::string::npos);
}

TEST_CASE("Policy values of the wrong type or range are refused") {
  CHECK(ParsePolicy("vmpl: 4").status().message().find("larger than 3") != std::string::npos);
  CHECK(ParsePolicy("allow_debug: maybe").status().message().find("true or false") !=
        std::string::npos);
  CHECK(ParsePolicy("host_data: abcd").status().code() == Code::kInvalidInput);
  CHECK(ParsePolicy("min_version: 1").status().message().find("MAJOR.MINOR") != std::string::npos);
  CHECK(ParsePolicy("[1, 2]").status().message().find("mapping") != std::string::npos);
  CHECK(ParsePolicy("a: [").status().message().find("YAML") != std::string::npos);
  CHECK(ParsePolicy("tee: tdx").status().code() == Code::kInvalidInput);
}

TEST_CASE("Policy errors from a file name the file, line and column and never throw") {
  cvm::testing::TempDir dir;
  std::string path = dir.File("policy.yaml");
  REQUIRE(WriteFileAtomic(path, AsBytes("vmpl: 0\nmin_build: 1e3\n")).ok());
  auto o = LoadPolicyFile(path);
  CHECK(o.status().code() == Code::kInvalidInput);
  CHECK(o.status().ToString().find(path) != std::string::npos);
  CHECK(o.status().message().find("min_build (line 2, column 12)") != std::string::npos);
  REQUIRE(WriteFileAtomic(path, AsBytes("vmpl: 0\nmin_tcb: {snp: [1,\n")).ok());
  o = LoadPolicyFile(path);
  CHECK(o.status().code() == Code::kInvalidInput);
  CHECK(o.status().message().find("not valid YAML (line ") != std::string::npos);
  CHECK(ParsePolicy("min_build: 0x10")->min_build == 16);
  CHECK_FALSE(ParsePolicy("min_build: 0x").ok());
  CHECK_FALSE(ParsePolicy("min_version: 1.2.3").ok());
  CHECK(ParsePolicy("min_version: 1.2")->min_version == std::pair<uint8_t, uint8_t>{1, 2});
}

TEST_CASE("The shipped example policy parses") {
  auto o = LoadPolicyFile(cvm::testing::SourceDir() + "/config/policy-snp.example.yaml");
  CHECK(o.ok());
}

}  // namespace
}  // namespace cvm::snp
