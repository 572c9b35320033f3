// cvmctl's TDX verbs, run as a process (exit codes and JSON are the contract).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdlib>

#include "common/file_util.h"
#include "tests/testing/testing.h"

namespace cvm {
namespace {

using nlohmann::json;

std::string Cvmctl() { return testing::BinaryDir() + "/cli/cvmctl"; }
std::string Vec(const std::string& f) { return testing::DataPath("vectors/tdx/" + f); }

testing::ProcessResult Ctl(std::vector<std::string> args) {
  args.insert(args.begin(), Cvmctl());
  return testing::Run(args);
}

TEST_CASE("cvmctl verifies the real v4 quote with its collateral as UpToDate") {
  auto r = Ctl({"verify", Vec("v4-dcap/quote.bin"), "--collateral", Vec("v4-dcap/collateral.json"),
                "--at", "2025-06-20T00:00:00Z", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  CHECK(j["verified"] == true);
  CHECK(j["tcb_status"] == "UpToDate");
  CHECK(j["advisory_ids"] == json::array());
  // The same result shape as the other TEEs: verified, tee, reasons, report.
  CHECK(j["tee"] == "tdx");
  CHECK(j["reasons"] == json::array());
  CHECK(j["report"]["mrtd"].get<std::string>().size() == 96);
}

TEST_CASE("cvmctl verify without collateral says only signatures and chain were checked") {
  auto r = Ctl({"verify", Vec("v5/quote.bin"), "--at", "2026-06-01T00:00:00Z", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  CHECK(j["tcb_status"].is_null());
  CHECK(j["checks"].get<std::string>().find("no collateral") != std::string::npos);
}

TEST_CASE("cvmctl rejects the v4 quote with collateral past its nextUpdate") {
  auto r = Ctl({"verify", Vec("v4-dcap/quote.bin"), "--collateral", Vec("v4-dcap/collateral.json"),
                "--at", "2025-08-01T00:00:00Z"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("expired") != std::string::npos);
}

TEST_CASE("cvmctl refuses a truncated quote with exit 2") {
  testing::TempDir dir;
  Bytes q = testing::ReadData("vectors/tdx/v4-dcap/quote.bin");
  q.resize(1000);
  REQUIRE(WriteFileAtomic(dir.File("q.bin"), q).ok());
  auto r = Ctl({"verify", dir.File("q.bin")});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("truncated") != std::string::npos);
}

TEST_CASE("cvmctl report show prints the documented quote keys") {
  auto r = Ctl({"report", "show", Vec("v5/quote.bin"), "--json"});
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  for (const char* k : {"version", "att_key_type", "tee_type", "qe_svn", "pce_svn", "qe_vendor_id",
                        "user_data", "tee_tcb_svn", "mrseam", "mrsignerseam", "seam_attributes",
                        "td_attributes", "xfam", "mrtd", "mrconfigid", "mrowner", "mrownerconfig",
                        "rtmr0", "rtmr1", "rtmr2", "rtmr3", "report_data", "tee_tcb_svn2",
                        "mrservicetd", "fmspc"}) {
    CHECK(j.contains(k));
  }
  CHECK(j["tee"] == "tdx");
  CHECK(j["version"] == 5);
}

TEST_CASE("A policy violation makes cvmctl reject the quote listing every violation") {
  testing::TempDir dir;
  REQUIRE(WriteFileAtomic(dir.File("p.yaml"), std::string("tdx:\n  mrtd: ") + std::string(96, '0') +
                                                   "\n  min_qe_svn: 100\n").ok());
  auto r = Ctl({"verify", Vec("v4-dcap/quote.bin"), "--at", "2025-06-20T00:00:00Z", "--policy",
                dir.File("p.yaml"), "--json"});
  CHECK(r.exit_code == 1);
  json j = json::parse(r.out);
  CHECK(j["violations"].size() == 2);
  CHECK(j["reasons"] == j["violations"]);
  CHECK(j["verified"] == false);
}

TEST_CASE("A simulated quote verifies only with --root naming the simulated root") {
  testing::TempDir dir;
  std::string sim = dir.File("sim");
  REQUIRE(Ctl({"sim", "init", sim, "--tee", "tdx"}).exit_code == 0);
  auto q = Ctl({"sim", "quote", sim, "--report-data", "c0ffee", "-o", dir.File("q.bin")});
  REQUIRE(q.exit_code == 0);
  REQUIRE(Ctl({"sim", "collateral", sim, "-o", dir.File("c.json")}).exit_code == 0);

  auto without = Ctl({"verify", dir.File("q.bin"), "--collateral", dir.File("c.json")});
  CHECK(without.exit_code == 1);
  auto no_collateral = Ctl({"verify", dir.File("q.bin")});
  CHECK(no_collateral.exit_code == 1);

  auto with = Ctl({"verify", dir.File("q.bin"), "--collateral", dir.File("c.json"), "--root",
                   sim + "/root.pem", "--json"});
  INFO(with.err);
  REQUIRE(with.exit_code == 0);
  json j = json::parse(with.out);
  CHECK(j["tcb_status"] == "UpToDate");
  CHECK(j["report_data"].get<std::string>().rfind("c0ffee00", 0) == 0);
}

TEST_CASE("A simulated v5 quote is shown with its TD 1.5 fields") {
  testing::TempDir dir;
  std::string sim = dir.File("sim");
  REQUIRE(Ctl({"sim", "init", sim, "--tee", "tdx"}).exit_code == 0);
  REQUIRE(Ctl({"sim", "quote", sim, "--version", "5", "-o", dir.File("q.bin")}).exit_code == 0);
  auto r = Ctl({"report", "show", dir.File("q.bin"), "--json"});
  REQUIRE(r.exit_code == 0);
  CHECK(json::parse(r.out).contains("mrservicetd"));
}

TEST_CASE("cvmctl verify --fetch with an unreachable PCCS exits 3") {
  setenv("CVM_TDX_PCS_URL", "http://127.0.0.1:9", 1);
  auto r = Ctl({"verify", Vec("v4-dcap/quote.bin"), "--fetch"});
  unsetenv("CVM_TDX_PCS_URL");
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("--fetch") != std::string::npos);
}

TEST_CASE("cvmctl shows a TDREPORT and refuses to verify it") {
  testing::TempDir dir;
  Bytes report(1024, 0);
  report[0] = 0x81;
  REQUIRE(WriteFileAtomic(dir.File("r.bin"), report).ok());
  auto show = Ctl({"report", "show", dir.File("r.bin"), "--json"});
  REQUIRE(show.exit_code == 0);
  json j = json::parse(show.out);
  CHECK(j["kind"] == "tdreport");
  CHECK(j["hashes_consistent"] == false);
  CHECK(Ctl({"verify", dir.File("r.bin")}).exit_code == 2);
}

}  // namespace
}  // namespace cvm
