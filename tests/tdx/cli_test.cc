// cvmctl's TDX verbs, run as a process (exit codes and JSON are the contract).
#include <catch2/catch.hpp>
#include <cstdlib>
#include <nlohmann/json.hpp>

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
  CHECK(j["details"]["tcb_status"] == "UpToDate");
  CHECK(j["details"]["advisory_ids"] == json::array());
  CHECK(j["notes"] == json::array());
  // The same result shape as the other TEEs: verified, tee, reasons, report.
  CHECK(j["tee"] == "tdx");
  CHECK(j["reasons"] == json::array());
  CHECK(j["report"]["mrtd"].get<std::string>().size() == 96);
}

TEST_CASE("cvmctl verify refuses a quote without collateral unless --no-collateral (exit 2)") {
  auto r = Ctl({"verify", Vec("v5/quote.bin"), "--at", "2026-06-01T00:00:00Z", "--json"});
  CHECK(r.exit_code == 2);
  CHECK(json::parse(r.out)["verified"] == false);
  CHECK(r.err.find("--no-collateral") != std::string::npos);
}

TEST_CASE("cvmctl verify --no-collateral says the TCB status was not evaluated") {
  auto r = Ctl(
      {"verify", Vec("v5/quote.bin"), "--at", "2026-06-01T00:00:00Z", "--no-collateral", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  CHECK(j["details"]["tcb_status"].is_null());
  REQUIRE(j["notes"].size() == 1);
  CHECK(j["notes"][0].get<std::string>().find("not evaluated") != std::string::npos);
  auto text =
      Ctl({"verify", Vec("v5/quote.bin"), "--at", "2026-06-01T00:00:00Z", "--no-collateral"});
  CHECK(text.out.rfind("verified: Intel TDX quote (TDX)\n", 0) == 0);
  CHECK(text.out.find("  note: TCB status") != std::string::npos);
}

TEST_CASE("cvmctl verify refuses options that do not apply to a TDX quote (exit 2)") {
  for (std::vector<std::string> extra :
       {std::vector<std::string>{"--cert", Vec("v4-dcap/quote.bin")},
        std::vector<std::string>{"--product", "Milan"},
        std::vector<std::string>{"--nonce", "00"}}) {
    std::vector<std::string> args = {"verify",       Vec("v4-dcap/quote.bin"),
                                     "--collateral", Vec("v4-dcap/collateral.json"),
                                     "--at",         "2025-06-20T00:00:00Z"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = Ctl(args);
    INFO(extra[0]);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(extra[0] + " does not apply to a TDX quote") != std::string::npos);
  }
}

TEST_CASE("cvmctl verify applies --crl to a TDX quote: a garbage CRL is unusable input") {
  testing::TempDir dir;
  REQUIRE(WriteFileAtomic(dir.File("junk.crl"), std::string("not a CRL")).ok());
  auto r = Ctl({"verify", Vec("v4-dcap/quote.bin"), "--collateral", Vec("v4-dcap/collateral.json"),
                "--at", "2025-06-20T00:00:00Z", "--crl", dir.File("junk.crl")});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("junk.crl") != std::string::npos);
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
  for (const char* k :
       {"version",         "att_key_type",  "tee_type",     "qe_svn",      "pce_svn",
        "qe_vendor_id",    "user_data",     "tee_tcb_svn",  "mrseam",      "mrsignerseam",
        "seam_attributes", "td_attributes", "xfam",         "mrtd",        "mrconfigid",
        "mrowner",         "mrownerconfig", "rtmr0",        "rtmr1",       "rtmr2",
        "rtmr3",           "report_data",   "tee_tcb_svn2", "mrservicetd", "fmspc"}) {
    CHECK(j.contains(k));
  }
  CHECK(j["tee"] == "tdx");
  CHECK(j["version"] == 5);
}

TEST_CASE("A policy violation makes cvmctl reject the quote listing every violation") {
  testing::TempDir dir;
  REQUIRE(WriteFileAtomic(dir.File("p.yaml"), std::string("tdx:\n  mrtd: ") + std::string(96, '0') +
                                                  "\n  min_qe_svn: 100\n")
              .ok());
  auto r = Ctl({"verify", Vec("v4-dcap/quote.bin"), "--at", "2025-06-20T00:00:00Z", "--policy",
                dir.File("p.yaml"), "--no-collateral", "--json"});
  CHECK(r.exit_code == 1);
  json j = json::parse(r.out);
  CHECK(j["reasons"].size() == 2);
  CHECK(j["genuine"] == true);
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
  auto no_collateral = Ctl({"verify", dir.File("q.bin"), "--no-collateral"});
  CHECK(no_collateral.exit_code == 1);

  auto with = Ctl({"verify", dir.File("q.bin"), "--collateral", dir.File("c.json"), "--root",
                   sim + "/root.pem", "--json"});
  INFO(with.err);
  REQUIRE(with.exit_code == 0);
  json j = json::parse(with.out);
  CHECK(j["details"]["tcb_status"] == "UpToDate");
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
  CHECK(r.err.find("fetching collateral from http://127.0.0.1:9") != std::string::npos);
  // The failed URL is named once, not once by each layer.
  const std::string url = "http://127.0.0.1:9/tdx/certification/v4/tcb";
  size_t first = r.err.find(url);
  CHECK(first != std::string::npos);
  CHECK(r.err.find(url, first + 1) == std::string::npos);
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
