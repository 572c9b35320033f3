// One decision per piece of evidence, whatever the front door (issue #8): `cvmctl verify` of the
// raw report, VerifyBundle of a bundle carrying it, and `cvmctl verify` of that bundle's JSON all
// reach the same verdict for the same reasons, because all three go through snp::Appraise.
#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/file_util.h"
#include "common/x509.h"
#include "evidence/bundle.h"
#include "tests/testing/testing.h"

namespace cvm::evidence {
namespace {

using nlohmann::json;

constexpr char kAt[] = "2026-06-01T00:00:00Z";

std::string Vec(const std::string& rel) { return cvm::testing::DataPath("vectors/snp/" + rel); }

cvm::testing::ProcessResult Cvmctl(std::vector<std::string> args) {
  args.insert(args.begin(), cvm::testing::BinaryDir() + "/cli/cvmctl");
  return cvm::testing::Run(args);
}

// The milan-v2 report (its guest policy has DEBUG set) with its VCEK, ASK and ARK, bound to its
// own REPORT_DATA in raw mode.
Bundle MilanBundle() {
  Bundle b;
  b.tee = TeeKind::kSnp;
  b.report = cvm::testing::ReadData("vectors/snp/milan-v2/report.bin");
  b.report_data_raw = Bytes(b.report.begin() + 0x50, b.report.begin() + 0x90);
  b.certs.push_back(cvm::testing::ReadData("vectors/snp/milan-v2/vcek.der"));
  auto chain = ParseCertificates(cvm::testing::ReadData("vectors/snp/milan-v2/ask_ark.pem"));
  REQUIRE(chain.ok());
  for (const auto& c : *chain) b.certs.push_back(c.Der());
  return b;
}

BundleVerifyOptions Options(bool allow_debug) {
  BundleVerifyOptions o;
  o.at = *ParseTime(kAt);
  o.allow_debug = allow_debug;
  return o;
}

// `cvmctl verify --json` of the raw report.
cvm::testing::ProcessResult VerifyRaw(bool allow_debug) {
  std::vector<std::string> args = {"verify",
                                   "--json",
                                   Vec("milan-v2/report.bin"),
                                   "--cert",
                                   Vec("milan-v2/vcek.der"),
                                   "--cert",
                                   Vec("milan-v2/ask_ark.pem"),
                                   std::string("--at=") + kAt};
  if (allow_debug) args.push_back("--allow-debug");
  return Cvmctl(args);
}

// `cvmctl verify --json` of the bundle's JSON.
cvm::testing::ProcessResult VerifyBundleFile(const Bundle& b, bool allow_debug) {
  cvm::testing::TempDir dir;
  const std::string text = ToJson(b).dump();
  REQUIRE(WriteFileAtomic(dir.File("bundle.json"), AsBytes(text)).ok());
  std::vector<std::string> args = {"verify", "--json", dir.File("bundle.json"),
                                   std::string("--at=") + kAt};
  if (allow_debug) args.push_back("--allow-debug");
  return Cvmctl(args);
}

std::vector<std::string> Strings(const json& list) {
  std::vector<std::string> out;
  for (const auto& s : list) out.push_back(s.get<std::string>());
  return out;
}

TEST_CASE("A DEBUG SNP guest is refused for the same reasons by cvmctl verify and VerifyBundle") {
  const Bundle b = MilanBundle();

  auto raw = VerifyRaw(false);
  INFO(raw.out << raw.err);
  REQUIRE(raw.exit_code == 1);
  const json raw_json = json::parse(raw.out);
  CHECK(raw_json["verified"] == false);
  std::vector<std::string> expected;
  for (const auto& r : Strings(raw_json["reasons"])) expected.push_back("snp: " + r);
  REQUIRE_FALSE(expected.empty());
  bool mentions_debug = false;
  for (const auto& r : expected) mentions_debug |= r.find("DEBUG") != std::string::npos;
  CHECK(mentions_debug);

  auto v = VerifyBundle(b, Options(false));
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  CHECK(v->reasons == expected);

  auto file = VerifyBundleFile(b, false);
  INFO(file.out << file.err);
  REQUIRE(file.exit_code == 1);
  CHECK(Strings(json::parse(file.out)["reasons"]) == expected);
}

TEST_CASE("A DEBUG SNP guest is accepted by cvmctl verify and VerifyBundle with allow_debug") {
  const Bundle b = MilanBundle();

  auto raw = VerifyRaw(true);
  INFO(raw.out << raw.err);
  REQUIRE(raw.exit_code == 0);
  const json raw_json = json::parse(raw.out);
  CHECK(raw_json["verified"] == true);

  auto v = VerifyBundle(b, Options(true));
  REQUIRE(v.ok());
  INFO(v->ToJson().dump(2));
  CHECK(v->verified);
  CHECK(v->claims.debug);
  CHECK(v->claims.product == raw_json["product"]);
  // The library's notes (DEBUG allowed, no CRL) reach the bundle's verdict unchanged.
  for (const auto& n : Strings(raw_json["notes"])) {
    CHECK(std::find(v->notes.begin(), v->notes.end(), "snp: " + n) != v->notes.end());
  }

  auto file = VerifyBundleFile(b, true);
  INFO(file.out << file.err);
  CHECK(file.exit_code == 0);
}

}  // namespace
}  // namespace cvm::evidence
