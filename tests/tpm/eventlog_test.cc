// Event-log replay into PCRs and the PCR checks built on it, with real logs.
#include "tpm/eventlog.h"

#include <catch2/catch.hpp>

#include "common/encoding.h"
#include "tests/testing/testing.h"

namespace cvm::tpm {
namespace {

tcg::EventLog Rhel8() {
  auto log = tcg::ParseEventLog(testing::ReadData("vectors/tpm/rhel8-uefi.bin"));
  REQUIRE(log.ok());
  return *log;
}

PcrValues Rhel8Expected() {
  Bytes json = testing::ReadData("vectors/tpm/rhel8-uefi.expected-pcrs.json");
  auto v = PcrValuesFromJson(AsChars(json));
  REQUIRE(v.ok());
  return *v;
}

TEST_CASE("The RHEL 8 UEFI log replays to exactly its expected PCRs in every bank") {
  PcrValues replayed = ReplayPcrs(Rhel8());
  PcrValues expected = Rhel8Expected();
  REQUIRE(expected.size() == 3);
  CHECK(replayed == expected);
}

TEST_CASE("PCRs equal to the replay pass the event-log check") {
  CHECK(ValidatePcrsAgainstEventLog(Rhel8Expected(), Rhel8()).ok());
}

TEST_CASE("Every PCR that differs from the replay is reported") {
  PcrValues quoted = Rhel8Expected();
  quoted[DigestAlg::kSha256][7][0] ^= 1;
  quoted[DigestAlg::kSha1][4][3] ^= 1;
  Status st = ValidatePcrsAgainstEventLog(quoted, Rhel8());
  CHECK(st.code() == Code::kRejected);
  CHECK(st.message().find("2 PCRs differ") != std::string::npos);
  CHECK(st.message().find("sha256:7") != std::string::npos);
  CHECK(st.message().find("sha1:4") != std::string::npos);
}

TEST_CASE("A PCR the log never extends must be zero") {
  PcrValues quoted;
  quoted[DigestAlg::kSha256][15] = Bytes(32, 0);
  CHECK(ValidatePcrsAgainstEventLog(quoted, Rhel8()).ok());
  quoted[DigestAlg::kSha256][15][31] = 1;
  CHECK(ValidatePcrsAgainstEventLog(quoted, Rhel8()).code() == Code::kRejected);
}

TEST_CASE(
    "The event log accounts for PCRs 0-9 and the PCRs it extends but not for IMA's or DRTM's") {
  PcrValues quoted = Rhel8Expected();
  quoted[DigestAlg::kSha256][10] = Bytes(32, 0x10);
  quoted[DigestAlg::kSha256][17] = Bytes(32, 0xff);
  std::vector<std::string> not_covered;
  PcrValues covered = PcrsCoveredByEventLog(quoted, Rhel8(), &not_covered);
  CHECK(not_covered == std::vector<std::string>{"sha256:10", "sha256:17"});
  CHECK(covered[DigestAlg::kSha256].count(8) == 1);
  CHECK(covered[DigestAlg::kSha256].count(14) == 1);  // extended by the log (shim's MokList)
  CHECK(covered[DigestAlg::kSha256].count(10) == 0);
  CHECK(covered[DigestAlg::kSha1] == quoted[DigestAlg::kSha1]);
  CHECK(ValidatePcrsAgainstEventLog(covered, Rhel8()).ok());
  // A covered PCR still has to match.
  covered[DigestAlg::kSha256][8][0] = 1;
  CHECK(ValidatePcrsAgainstEventLog(covered, Rhel8()).code() == Code::kRejected);
}

TEST_CASE("A quoted bank the log does not carry is a mismatch") {
  PcrValues quoted;
  quoted[DigestAlg::kSha512][0] = Bytes(64, 0);
  Status st = ValidatePcrsAgainstEventLog(quoted, Rhel8());
  CHECK(st.code() == Code::kRejected);
  CHECK(st.message().find("no sha512 bank") != std::string::npos);
}

TEST_CASE("The Ubuntu 24.04 SEV-SNP log parses and replays its sha256 bank") {
  auto log = tcg::ParseEventLog(testing::ReadData("vectors/tpm/ubuntu-2404-amd-sevsnp.bin"));
  REQUIRE(log.ok());
  PcrValues replayed = ReplayPcrs(*log);
  REQUIRE(replayed.count(DigestAlg::kSha256));
  CHECK(replayed.at(DigestAlg::kSha256).count(0));
  CHECK(ValidatePcrsAgainstEventLog(replayed, *log).ok());
}

TEST_CASE("Expected-value validation reports every missing and different PCR") {
  PcrValues actual;
  actual[DigestAlg::kSha256][0] = Bytes(32, 1);
  actual[DigestAlg::kSha256][1] = Bytes(32, 2);
  PcrValues expected = actual;
  CHECK(ValidateExpectedPcrs(actual, expected).ok());
  expected[DigestAlg::kSha256][1] = Bytes(32, 3);
  expected[DigestAlg::kSha256][9] = Bytes(32, 0);
  Status st = ValidateExpectedPcrs(actual, expected);
  CHECK(st.code() == Code::kRejected);
  CHECK(st.message().find("sha256:1 is 0202") != std::string::npos);
  CHECK(st.message().find("sha256:9 is expected but was not quoted") != std::string::npos);
}

TEST_CASE("A missing kernel event log is not found") {
  testing::TempDir dir;
  CHECK(ReadLinuxEventLog(dir.File("none")).status().code() == Code::kNotFound);
}

}  // namespace
}  // namespace cvm::tpm
