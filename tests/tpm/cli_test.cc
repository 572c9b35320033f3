// cvmctl tpm / eventlog / Azure HCL verbs, run as a process (against swtpm where a TPM is needed).
#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/file_util.h"
#include "common/keys.h"
#include "tests/testing/testing.h"
#include "tests/tpm/hcl_util.h"
#include "tests/tpm/replay_util.h"
#include "tests/tpm/swtpm_fixture.h"
#include "tpm/hcl.h"
#include "tpm/tpm.h"

namespace cvm {
namespace {

std::string Cvmctl() { return testing::BinaryDir() + "/cli/cvmctl"; }
std::string Vector(const std::string& rel) { return testing::DataPath("vectors/" + rel); }
const std::string kNonce = "00112233445566778899aabbccddeeff";

nlohmann::json ParseJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  REQUIRE(!j.is_discarded());
  return j;
}

TEST_CASE("cvmctl tpm quote writes files that tpm2_checkquote and cvmctl tpm verify accept") {
  auto swtpm = testing::Swtpm::Start();
  REQUIRE(swtpm);
  testing::TempDir dir;
  std::string out = dir.File("q");
  auto q = testing::Run({Cvmctl(), "tpm", "quote", "--nonce", kNonce, "--pcrs", "sha256:0,1,7",
                         "--tcti", swtpm->tcti(), "--out-dir", out});
  INFO(q.err);
  REQUIRE(q.exit_code == 0);
  auto check = testing::Run({"/usr/bin/tpm2_checkquote", "-u", out + "/ak.pub.pem", "-m",
                             out + "/quote.msg", "-s", out + "/quote.sig", "-q", kNonce});
  INFO(check.err);
  CHECK(check.exit_code == 0);
  auto verify = testing::Run({Cvmctl(), "tpm", "verify", out, "--nonce", kNonce});
  INFO(verify.err);
  CHECK(verify.exit_code == 0);
  CHECK(verify.out.find("verified: TPM quote") == 0);
  auto pcrs = ParseJson(std::string(AsChars(*ReadFile(out + "/pcrs.json"))));
  CHECK(pcrs["sha256"].size() == 3);
}

TEST_CASE("cvmctl tpm verify rejects another nonce and PCRs that differ from the log") {
  auto swtpm = testing::Swtpm::Start();
  REQUIRE(swtpm);
  testing::TempDir dir;
  std::string out = dir.File("q");
  REQUIRE(testing::Run({Cvmctl(), "tpm", "quote", "--nonce", kNonce, "--pcrs", "sha256:0-9",
                        "--tcti", swtpm->tcti(), "--out-dir", out})
              .exit_code == 0);
  auto wrong = testing::Run({Cvmctl(), "tpm", "verify", out, "--nonce", "00"});
  CHECK(wrong.exit_code == 1);
  CHECK(wrong.err.find("nonce") != std::string::npos);
  auto log = testing::Run({Cvmctl(), "tpm", "verify", out, "--nonce", kNonce, "--eventlog",
                           Vector("tpm/rhel8-uefi.bin")});
  CHECK(log.exit_code == 1);
  CHECK(log.err.find("event log") != std::string::npos);
  auto expected = testing::Run({Cvmctl(), "tpm", "verify", out, "--nonce", kNonce,
                                "--expected-pcrs", out + "/pcrs.json", "--json"});
  CHECK(expected.exit_code == 0);
  CHECK(ParseJson(expected.out)["verified"] == true);
}

TEST_CASE("cvmctl tpm verify refuses PCR values the quote does not cover") {
  auto swtpm = testing::Swtpm::Start();
  REQUIRE(swtpm);
  testing::TempDir dir;
  std::string out = dir.File("q");
  REQUIRE(testing::Run({Cvmctl(), "tpm", "quote", "--nonce", kNonce, "--pcrs", "sha256:0", "--tcti",
                        swtpm->tcti(), "--out-dir", out})
              .exit_code == 0);
  // A forged sha256:7 added to pcrs.json and, with the same value, to the expected PCRs.
  auto pcrs = ParseJson(std::string(AsChars(*ReadFile(out + "/pcrs.json"))));
  pcrs["sha256"]["7"] = std::string(64, 'a');
  REQUIRE(WriteFileAtomic(out + "/pcrs.json", pcrs.dump()).ok());
  nlohmann::json want;
  want["sha256"]["7"] = std::string(64, 'a');
  REQUIRE(WriteFileAtomic(dir.File("want.json"), want.dump()).ok());
  auto r = testing::Run({Cvmctl(), "tpm", "verify", out, "--nonce", kNonce, "--expected-pcrs",
                         dir.File("want.json"), "--json"});
  CHECK(r.exit_code == 1);
  auto j = ParseJson(r.out);
  CHECK(j["verified"] == false);
  CHECK(j["reasons"][0].get<std::string>().find("outside the quoted selection") !=
        std::string::npos);
}

TEST_CASE("cvmctl tpm verify refuses expected PCRs and event-log PCRs outside the selection") {
  auto swtpm = testing::Swtpm::Start();
  REQUIRE(swtpm);
  testing::TempDir dir;
  std::string out = dir.File("q");
  REQUIRE(testing::Run({Cvmctl(), "tpm", "quote", "--nonce", kNonce, "--pcrs", "sha256:0", "--tcti",
                        swtpm->tcti(), "--out-dir", out})
              .exit_code == 0);
  nlohmann::json want;
  want["sha256"]["7"] = std::string(64, 'a');
  REQUIRE(WriteFileAtomic(dir.File("want.json"), want.dump()).ok());
  auto expected = testing::Run({Cvmctl(), "tpm", "verify", out, "--nonce", kNonce,
                                "--expected-pcrs", dir.File("want.json")});
  CHECK(expected.exit_code == 1);
  CHECK(expected.err.find("sha256:7 is not in the quoted selection") != std::string::npos);
  auto log = testing::Run({Cvmctl(), "tpm", "verify", out, "--nonce", kNonce, "--eventlog",
                           Vector("tpm/rhel8-uefi.bin")});
  CHECK(log.exit_code == 1);
  CHECK(log.err.find("the event log extends sha256:1, which the quote") != std::string::npos);
}

TEST_CASE("cvmctl tpm verify --eventlog accepts PCRs that the event log accounts for") {
  auto swtpm = testing::Swtpm::Start();
  REQUIRE(swtpm);
  {
    auto tpm = tpm::OpenTpm(swtpm->tcti());
    REQUIRE(tpm.ok());
    auto log = tcg::ParseEventLog(testing::ReadData("vectors/tpm/rhel8-uefi.bin"));
    REQUIRE(log.ok());
    // Every PCR the log extends (0-9 and 14) must be quoted; the log has no StartupLocality
    // event, so PCR0 starts at zero like swtpm's.
    REQUIRE(testing::ReplayIntoTpm(**tpm, *log, 0, 14).ok());
  }  // swtpm serves one connection at a time: close ours before cvmctl connects
  testing::TempDir dir;
  std::string out = dir.File("q");
  REQUIRE(testing::Run({Cvmctl(), "tpm", "quote", "--nonce", kNonce, "--pcrs", "sha256:0-9,14",
                        "--ak-alg", "rsa", "--tcti", swtpm->tcti(), "--out-dir", out})
              .exit_code == 0);
  auto r = testing::Run({Cvmctl(), "tpm", "verify", out, "--nonce", kNonce, "--eventlog",
                         Vector("tpm/rhel8-uefi.bin")});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  auto check = testing::Run({"/usr/bin/tpm2_checkquote", "-u", out + "/ak.pub.pem", "-m",
                             out + "/quote.msg", "-s", out + "/quote.sig", "-q", kNonce});
  CHECK(check.exit_code == 0);
}

TEST_CASE("cvmctl tpm hcl-report writes the user data and saves the report that carries it") {
  auto swtpm = testing::Swtpm::Start();
  REQUIRE(swtpm);
  Bytes report = testing::ReadData("vectors/snp/azure-vtpm/hcl-report.bin");
  report.resize(2048);  // swtpm's largest NV index; the claims end at 2346, so cut them short
  {
    auto tpm = tpm::OpenTpm(swtpm->tcti());
    REQUIRE(tpm.ok());
    REQUIRE((*tpm)->NvWrite(0x01400001, report).ok());
  }
  testing::TempDir dir;
  auto r = testing::Run({Cvmctl(), "tpm", "hcl-report", "--tcti", swtpm->tcti(), "--delay-ms", "0",
                         "--attempts", "2", "-o", dir.File("hcl.bin")});
  // The stored report is not parseable (cut short), so it never shows the user data.
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("did not pick up the user data") != std::string::npos);
  auto none = testing::Swtpm::Start();
  REQUIRE(none);
  auto missing = testing::Run(
      {Cvmctl(), "tpm", "hcl-report", "--tcti", none->tcti(), "-o", dir.File("hcl2.bin")});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("0x01400001") != std::string::npos);
}

TEST_CASE("cvmctl tpm hcl-report saves the HCL report once it carries the user data") {
  auto swtpm = testing::Swtpm::Start();
  REQUIRE(swtpm);
  auto ak = GenerateRsaKey(2048);
  REQUIRE(ak.ok());
  Bytes user = {0xca, 0xfe};
  // Allocated at its final size: resize() of a copy makes GCC 12 -O3 report a false
  // -Warray-bounds in the inlined memcpy.
  Bytes padded(64, 0);
  std::copy(user.begin(), user.end(), padded.begin());
  Bytes report = testing::MakeHcl(testing::HclClaims(ak->get(), padded));
  {
    auto tpm = tpm::OpenTpm(swtpm->tcti());
    REQUIRE(tpm.ok());
    REQUIRE((*tpm)->NvWrite(0x01400001, report).ok());  // as Azure's paravisor would
  }
  testing::TempDir dir;
  auto r = testing::Run({Cvmctl(), "tpm", "hcl-report", "--tcti", swtpm->tcti(), "--user-data",
                         "cafe", "--delay-ms", "0", "-o", dir.File("hcl.bin")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(*ReadFile(dir.File("hcl.bin")) == report);
  auto parsed = tpm::ParseHclReport(*ReadFile(dir.File("hcl.bin")));
  REQUIRE(parsed.ok());
  CHECK(parsed->user_data == padded);
}

TEST_CASE("cvmctl tpm pcrs prints all 24 sha256 PCRs as JSON") {
  auto swtpm = testing::Swtpm::Start();
  REQUIRE(swtpm);
  auto r = testing::Run({Cvmctl(), "tpm", "pcrs", "--tcti", swtpm->tcti()});
  REQUIRE(r.exit_code == 0);
  auto j = ParseJson(r.out);
  CHECK(j["sha256"].size() == 24);
  CHECK(j["sha256"]["0"] == std::string(64, '0'));
}

TEST_CASE("cvmctl tpm quote without a reachable TPM exits 3") {
  std::string tcti;
  {
    auto swtpm = testing::Swtpm::Start();
    REQUIRE(swtpm);
    tcti = swtpm->tcti();
  }
  testing::TempDir dir;
  auto r = testing::Run(
      {Cvmctl(), "tpm", "quote", "--nonce", kNonce, "--tcti", tcti, "--out-dir", dir.File("q")});
  CHECK(r.exit_code == 3);
}

TEST_CASE("cvmctl tpm quote refuses a bad nonce or selection with exit 2") {
  testing::TempDir dir;
  CHECK(testing::Run({Cvmctl(), "tpm", "quote", "--nonce", "xyz", "--out-dir", dir.path()})
            .exit_code == 2);
  CHECK(testing::Run({Cvmctl(), "tpm", "quote", "--nonce", "00", "--pcrs", "sha256:99", "--out-dir",
                      dir.path()})
            .exit_code == 2);
  CHECK(testing::Run({Cvmctl(), "tpm", "frob"}).exit_code == 2);
}

TEST_CASE("cvmctl eventlog replay --json gives exactly the RHEL 8 expected PCRs") {
  auto r = testing::Run({Cvmctl(), "eventlog", "replay", Vector("tpm/rhel8-uefi.bin"), "--json"});
  REQUIRE(r.exit_code == 0);
  auto j = ParseJson(r.out);
  auto expected = ParseJson(
      std::string(AsChars(testing::ReadData("vectors/tpm/rhel8-uefi.expected-pcrs.json"))));
  CHECK(j["banks"] == expected);
  CHECK(j["events"].get<int>() > 0);
}

TEST_CASE("cvmctl eventlog replay --ccel gives the RTMRs of the GCP TDX quote") {
  auto r = testing::Run(
      {Cvmctl(), "eventlog", "replay", Vector("tdx/gcp-ccel/ccel_data.bin"), "--ccel", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = ParseJson(r.out);
  Bytes quote = testing::ReadData("vectors/tdx/gcp-ccel/quote.bin");
  // Quote v4: 48-byte header, then the TD report body with RTMR0..3 at body offset 328.
  for (int i = 0; i < 3; ++i) {
    INFO("RTMR" << i);
    CHECK(j["rtmr"][std::to_string(i)] ==
          HexEncode(ByteSpan(quote).subspan(48 + 328 + 48 * static_cast<size_t>(i), 48)));
  }
}

TEST_CASE("cvmctl eventlog replay refuses a file that is not an event log with exit 2") {
  testing::TempDir dir;
  REQUIRE(WriteFileAtomic(dir.File("junk"), std::string("not an event log at all")).ok());
  CHECK(testing::Run({Cvmctl(), "eventlog", "replay", dir.File("junk")}).exit_code == 2);
  // Random bytes are named for what they are not, not "truncated, need 1061326759 bytes".
  Bytes random(4096);
  for (size_t i = 0; i < random.size(); ++i) random[i] = static_cast<uint8_t>(i * 131 + 7);
  REQUIRE(WriteFileAtomic(dir.File("random"), random).ok());
  auto r = testing::Run({Cvmctl(), "eventlog", "replay", dir.File("random")});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("not a TCG event log") != std::string::npos);
  CHECK(r.err.find("truncated") == std::string::npos);
}

TEST_CASE("cvmctl eventlog replay --ccel refuses a TPM event log") {
  auto r = testing::Run({Cvmctl(), "eventlog", "replay", Vector("tpm/rhel8-uefi.bin"), "--ccel"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("not a TDX CC event log") != std::string::npos);
}

TEST_CASE("cvmctl verify checks the Azure HCL report, its claims binding and its TPM quote") {
  auto r = testing::Run({Cvmctl(), "verify", Vector("snp/azure-vtpm/hcl-report.bin"), "--cert",
                         Vector("snp/azure-vtpm/vcek_ask_ark.pem"), "--tpm-quote",
                         Vector("snp/azure-vtpm/tpm-quote-v1.json"), "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = ParseJson(r.out);
  CHECK(j["tee"] == "az-snp-vtpm");
  CHECK(j["details"]["claims_binding"] == "verified");
  CHECK(j["details"]["tpm_quote"]["verified"] == true);
  CHECK(j["details"]["tpm_quote"]["nonce"] == HexEncode(AsBytes("challenge")));
  CHECK(j["details"]["tpm_quote"]["nonce_checked"] == false);
  CHECK(!j["notes"].empty());
  CHECK(j["verified"] == true);
  CHECK(j["reasons"].empty());
  CHECK(j["report"]["tee"] == "az-snp-vtpm");
}

TEST_CASE("cvmctl verify --nonce checks the Azure TPM quote's nonce") {
  std::vector<std::string> base = {Cvmctl(),
                                   "verify",
                                   Vector("snp/azure-vtpm/hcl-report.bin"),
                                   "--cert",
                                   Vector("snp/azure-vtpm/vcek_ask_ark.pem"),
                                   "--tpm-quote",
                                   Vector("snp/azure-vtpm/tpm-quote-v1.json")};
  auto right = base, wrong = base;
  right.insert(right.end(), {"--nonce", HexEncode(AsBytes("challenge")), "--json"});
  wrong.insert(wrong.end(), {"--nonce", HexEncode(AsBytes("challengf"))});
  auto ok = testing::Run(right);
  INFO(ok.err);
  REQUIRE(ok.exit_code == 0);
  CHECK(ParseJson(ok.out)["details"]["tpm_quote"]["nonce_checked"] == true);
  auto bad = testing::Run(wrong);
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("nonce") != std::string::npos);
}

TEST_CASE("cvmctl verify rejects an Azure HCL report whose claims were changed") {
  Bytes data = testing::ReadData("vectors/snp/azure-vtpm/hcl-report.bin");
  std::string text(AsChars(data));
  size_t at = text.find("\"secure-boot\":true");
  REQUIRE(at != std::string::npos);
  std::string changed = "\"secure-boot\":null";
  std::copy(changed.begin(), changed.end(), data.begin() + static_cast<std::ptrdiff_t>(at));
  testing::TempDir dir;
  REQUIRE(WriteFileAtomic(dir.File("hcl.bin"), data).ok());
  auto r = testing::Run({Cvmctl(), "verify", dir.File("hcl.bin"), "--cert",
                         Vector("snp/azure-vtpm/vcek_ask_ark.pem")});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("REPORT_DATA") != std::string::npos);
}

TEST_CASE("cvmctl verify rejects an Azure TPM quote with a changed PCR") {
  Bytes json = testing::ReadData("vectors/snp/azure-vtpm/tpm-quote-v1.json");
  auto j = ParseJson(std::string(AsChars(json)));
  j["pcrs"][0] = std::string(64, '0');
  testing::TempDir dir;
  REQUIRE(WriteFileAtomic(dir.File("quote.json"), j.dump()).ok());
  auto r = testing::Run({Cvmctl(), "verify", Vector("snp/azure-vtpm/hcl-report.bin"), "--cert",
                         Vector("snp/azure-vtpm/vcek_ask_ark.pem"), "--tpm-quote",
                         dir.File("quote.json")});
  CHECK(r.exit_code == 1);
}

TEST_CASE("cvmctl verify of an Azure HCL report without certificates exits 2") {
  testing::TempDir dir;
  auto r = testing::Run({"/usr/bin/env", "CVM_KDS_CACHE=" + dir.path(), Cvmctl(), "verify",
                         Vector("snp/azure-vtpm/hcl-report.bin")});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--cert") != std::string::npos);
}

TEST_CASE("cvmctl verify applies --crl and --product to an Azure HCL report") {
  testing::TempDir dir;
  REQUIRE(WriteFileAtomic(dir.File("junk.crl"), std::string("not a CRL")).ok());
  std::vector<std::string> base = {Cvmctl(), "verify", Vector("snp/azure-vtpm/hcl-report.bin"),
                                   "--cert", Vector("snp/azure-vtpm/vcek_ask_ark.pem")};
  auto crl = base, product = base, collateral = base;
  crl.insert(crl.end(), {"--crl", dir.File("junk.crl")});
  product.insert(product.end(), {"--product", "Genoa"});
  collateral.insert(collateral.end(), {"--collateral", dir.File("junk.crl")});
  auto c = testing::Run(crl);
  CHECK(c.exit_code == 2);
  CHECK(c.err.find("junk.crl") != std::string::npos);
  auto p = testing::Run(product);
  CHECK(p.exit_code == 1);
  CHECK(p.err.find("Genoa") != std::string::npos);
  auto x = testing::Run(collateral);
  CHECK(x.exit_code == 2);
  CHECK(x.err.find("--collateral does not apply") != std::string::npos);
}

TEST_CASE("cvmctl report show --json decodes the Azure HCL report and its SNP report") {
  auto r =
      testing::Run({Cvmctl(), "report", "show", Vector("snp/azure-vtpm/hcl-report.bin"), "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = ParseJson(r.out);
  CHECK(j["tee"] == "az-snp-vtpm");
  CHECK(j["runtime_claims"]["keys"][0]["kid"] == "HCLAkPub");
  CHECK(j["hardware_report"]["version"] == 2);
  CHECK(j["user_data"] == std::string(128, '0'));
}

TEST_CASE("cvmctl report show prints the HCL header, the claims and then the SNP report") {
  auto r = testing::Run({Cvmctl(), "report", "show", Vector("snp/azure-vtpm/hcl-report.bin")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  size_t hcl = r.out.find("Azure HCL report (tee az-snp-vtpm)");
  size_t claims = r.out.find("\"kid\": \"HCLAkPub\"");
  size_t snp = r.out.find("measurement: 9ac48fca");
  CHECK(hcl == 0);
  CHECK(claims != std::string::npos);
  CHECK(snp != std::string::npos);
  CHECK(claims < snp);
}

}  // namespace
}  // namespace cvm
