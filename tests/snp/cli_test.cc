// cvmctl's SNP verbs, run as a process (exit codes and output are the contract).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/x509.h"
#include "snp/certs_table.h"
#include "snp/kds.h"
#include "snp/report.h"
#include "tests/testing/testing.h"

namespace cvm::snp {
namespace {

using cvm::testing::DataPath;
using cvm::testing::ProcessResult;

constexpr char kAt[] = "--at=2026-06-01T00:00:00Z";

ProcessResult Cvmctl(std::vector<std::string> args) {
  args.insert(args.begin(), cvm::testing::BinaryDir() + "/cli/cvmctl");
  return cvm::testing::Run(args);
}

std::string Vec(const std::string& rel) { return DataPath("vectors/snp/" + rel); }

TEST_CASE("cvmctl report show --json prints the ABI fields of a real Genoa report") {
  auto r = Cvmctl({"report", "show", "--json", Vec("genoa-v3/report.bin")});
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["tee"] == "snp");
  CHECK(j["product"] == "Genoa");
  CHECK(j["version"] == 3);
  CHECK(j["policy"] == 0x3001f);
  CHECK(j["reported_tcb"]["snp"] == 23);
  CHECK(j["reported_tcb"]["raw"].get<uint64_t>() == 0x541700000000000aULL);
  CHECK(j["measurement"].get<std::string>().rfind("5feee30d", 0) == 0);
  CHECK(j["cpuid_fam_id"] == 0x19);
  CHECK(!j.contains("launch_mit_vector"));
  for (const char* key :
       {"guest_svn",       "family_id",         "image_id",      "vmpl",          "signature_algo",
        "current_tcb",     "platform_info",     "signer_info",   "report_data",   "host_data",
        "id_key_digest",   "author_key_digest", "report_id",     "report_id_ma",  "chip_id",
        "committed_tcb",   "current_build",     "current_minor", "current_major", "committed_build",
        "committed_minor", "committed_major",   "launch_tcb",    "cpuid_mod_id",  "cpuid_step"}) {
    CHECK(j.contains(key));
  }
}

TEST_CASE("cvmctl verify accepts every real report with its chain and AMD's roots") {
  // The milan-v2 guest runs with DEBUG set: only --allow-debug accepts it.
  CHECK(Cvmctl({"verify", Vec("milan-v2/report.bin"), "--cert", Vec("milan-v2/vcek.der"), "--cert",
                Vec("milan-v2/ask_ark.pem"), kAt, "--allow-debug"})
            .exit_code == 0);
  CHECK(Cvmctl({"verify", Vec("genoa-v3/report.bin"), "--cert", Vec("genoa-v3/vcek.pem"), "--cert",
                Vec("genoa-v3/ask.pem"), "--cert", Vec("genoa-v3/ark.pem"), kAt})
            .exit_code == 0);
}

TEST_CASE("cvmctl verify --json reports verified, the product and the fields") {
  auto r = Cvmctl({"verify", "--json", Vec("milan-v2/report.bin"), "--cert",
                   Vec("milan-v2/vcek.der"), kAt, "--allow-debug"});
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["verified"] == true);
  CHECK(j["tee"] == "snp");
  CHECK(j["reasons"].empty());
  CHECK(j["product"] == "Milan");
  CHECK(!j["notes"].empty());  // DEBUG allowed, no CRL
  CHECK(j["report"]["product"] == "Milan");
  CHECK(j["report"]["report_data"].get<std::string>().rfind("0102030405", 0) == 0);
}

TEST_CASE("cvmctl verify rejects a report with a flipped bit (exit 1)") {
  cvm::testing::TempDir dir;
  Bytes b = cvm::testing::ReadData("vectors/snp/genoa-v3/report.bin");
  b[0x95] ^= 0x10;
  REQUIRE(WriteFileAtomic(dir.File("r.bin"), b).ok());
  auto r = Cvmctl({"verify", "--json", dir.File("r.bin"), "--cert", Vec("genoa-v3/vcek.pem"), kAt});
  CHECK(r.exit_code == 1);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["verified"] == false);
  CHECK(j["reasons"][0].get<std::string>().find("signature") != std::string::npos);
}

TEST_CASE("cvmctl verify refuses truncated and oversized files (exit 2)") {
  cvm::testing::TempDir dir;
  Bytes b = cvm::testing::ReadData("vectors/snp/genoa-v3/report.bin");
  Bytes shorter(b.begin(), b.end() - 100);
  Bytes longer = b;
  longer.resize(b.size() + 16);
  REQUIRE(WriteFileAtomic(dir.File("short.bin"), shorter).ok());
  REQUIRE(WriteFileAtomic(dir.File("long.bin"), longer).ok());
  auto s = Cvmctl({"verify", dir.File("short.bin"), "--cert", Vec("genoa-v3/vcek.pem"), kAt});
  CHECK(s.exit_code == 2);
  CHECK(s.err.find("truncated") != std::string::npos);
  auto l = Cvmctl({"verify", dir.File("long.bin"), "--cert", Vec("genoa-v3/vcek.pem"), kAt});
  CHECK(l.exit_code == 2);
  CHECK(l.err.find("trailing") != std::string::npos);
}

TEST_CASE("cvmctl verify rejects a chain for another product and an expired VCEK (exit 1)") {
  auto other =
      Cvmctl({"verify", Vec("genoa-v3/report.bin"), "--cert", Vec("milan-v2/vcek.der"), kAt});
  CHECK(other.exit_code == 1);
  CHECK(other.err.find("Milan") != std::string::npos);
  auto expired = Cvmctl({"verify", Vec("milan-v2/report.bin"), "--cert", Vec("milan-v2/vcek.der"),
                         "--at", "2030-01-01T00:00:00Z"});
  CHECK(expired.exit_code == 1);
  CHECK(expired.err.find("expired") != std::string::npos);
}

TEST_CASE("cvmctl verify applies a policy and lists every violation (exit 1)") {
  auto r =
      Cvmctl({"verify", Vec("milan-v2/report.bin"), "--cert", Vec("milan-v2/vcek.der"), kAt,
              "--policy", cvm::testing::SourceDir() + "/config/policy-snp.example.yaml", "--json"});
  CHECK(r.exit_code == 1);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["genuine"] == true);
  CHECK(j["reasons"].size() == 4);
  CHECK(r.err.find("DEBUG") != std::string::npos);
}

TEST_CASE("cvmctl verify refuses a DEBUG guest without any policy (exit 1)") {
  auto r = Cvmctl({"verify", Vec("milan-v2/report.bin"), "--cert", Vec("milan-v2/vcek.der"), kAt});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("DEBUG") != std::string::npos);
  CHECK(r.out.find("REJECTED") == 0);
}

TEST_CASE("cvmctl verify rejects a --product that contradicts the report (exit 1)") {
  auto r = Cvmctl({"verify", Vec("genoa-v3/report.bin"), "--cert", Vec("genoa-v3/vcek.pem"), kAt,
                   "--product", "Milan"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("Milan") != std::string::npos);
}

TEST_CASE("cvmctl verify refuses options that do not apply to an SNP report (exit 2)") {
  for (std::vector<std::string> extra :
       {std::vector<std::string>{"--collateral", Vec("genoa-v3/ark.pem")},
        std::vector<std::string>{"--no-collateral"},
        std::vector<std::string>{"--tpm-quote", Vec("genoa-v3/ark.pem")}}) {
    std::vector<std::string> args = {"verify", Vec("genoa-v3/report.bin"), "--cert",
                                     Vec("genoa-v3/vcek.pem"), kAt};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = Cvmctl(args);
    INFO(extra[0]);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(extra[0] + " does not apply") != std::string::npos);
  }
}

TEST_CASE("cvmctl verify --json prints one JSON object for every outcome") {
  cvm::testing::TempDir dir;
  auto missing = Cvmctl({"verify", "/nonexistent/report.bin", "--json"});
  CHECK(missing.exit_code == 2);
  auto j = nlohmann::json::parse(missing.out);
  CHECK(j["verified"] == false);
  CHECK(j["error"]["code"] == "not found");
  auto directory = Cvmctl({"verify", dir.path(), "--json"});
  CHECK(directory.exit_code == 2);
  CHECK(nlohmann::json::parse(directory.out)["reasons"][0].get<std::string>().find("directory") !=
        std::string::npos);
  auto bad_at = Cvmctl({"verify", Vec("genoa-v3/report.bin"), "--at", "yesterday", "--json"});
  CHECK(bad_at.exit_code == 2);
  CHECK(nlohmann::json::parse(bad_at.out)["verified"] == false);
}

TEST_CASE("cvmctl verify of a directory is unusable input (exit 2)") {
  cvm::testing::TempDir dir;
  auto r = Cvmctl({"verify", dir.path()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("is a directory") != std::string::npos);
}

TEST_CASE("cvmctl verify --log-level debug logs each verification step") {
  auto r = cvm::testing::Run({cvm::testing::BinaryDir() + "/cli/cvmctl", "--log-level", "debug",
                              "verify", Vec("genoa-v3/report.bin"), "--cert",
                              Vec("genoa-v3/vcek.pem"), kAt});
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("snp: verifying the chain") != std::string::npos);
  CHECK(r.err.find("snp: genuine") != std::string::npos);
}

TEST_CASE("cvmctl verify prints a short summary: verdict, TEE, TCB, measurement") {
  auto r = Cvmctl({"verify", Vec("genoa-v3/report.bin"), "--cert", Vec("genoa-v3/vcek.pem"), kAt});
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("verified: AMD SEV-SNP report (Genoa)\n", 0) == 0);
  CHECK(r.out.find("  measurement: 5feee30d") != std::string::npos);
  CHECK(r.out.find("  tcb: ") != std::string::npos);
}

TEST_CASE("cvmctl verify without certificates offline says how to get them (exit 2)") {
  cvm::testing::TempDir dir;
  auto r = cvm::testing::Run({"/usr/bin/env", "CVM_KDS_CACHE=" + dir.path(),
                              cvm::testing::BinaryDir() + "/cli/cvmctl", "verify",
                              Vec("genoa-v3/report.bin"), kAt});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--fetch") != std::string::npos);
}

TEST_CASE("cvmctl verify --fetch that cannot reach AMD KDS says the fetch failed (exit 3)") {
  cvm::testing::TempDir dir;
  // A proxy that refuses connections: curl fails at once, as it would offline.
  auto r = cvm::testing::Run({"/usr/bin/env", "CVM_KDS_CACHE=" + dir.path(),
                              "https_proxy=http://127.0.0.1:9", "HTTPS_PROXY=http://127.0.0.1:9",
                              cvm::testing::BinaryDir() + "/cli/cvmctl", "verify",
                              Vec("genoa-v3/report.bin"), kAt, "--fetch"});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("fetching the VCEK from AMD KDS failed") != std::string::npos);
  CHECK(r.err.find("give --cert") == std::string::npos);
}

TEST_CASE("A simulated SNP verifies with --root naming its ARK and never with AMD's roots") {
  cvm::testing::TempDir dir;
  std::string sim = dir.File("sim");
  auto init = Cvmctl({"sim", "init", sim, "--tee", "snp", "--product", "Turin", "--report-version",
                      "5", "--chip-id", "59790fb1c39f35c1", "--tcb",
                      "fmc=1,bootloader=1,tee=1,snp=4,microcode=81"});
  REQUIRE(init.exit_code == 0);
  auto rep = Cvmctl({"sim", "report", sim, "--report-data", "00112233", "--measurement",
                     std::string(96, 'a'), "-o", dir.File("r.bin")});
  REQUIRE(rep.exit_code == 0);
  auto show = Cvmctl({"report", "show", "--json", dir.File("r.bin")});
  REQUIRE(show.exit_code == 0);
  auto j = nlohmann::json::parse(show.out);
  CHECK(j["product"] == "Turin");
  CHECK(j["version"] == 5);
  CHECK(j["reported_tcb"]["fmc"] == 1);
  CHECK(j["reported_tcb"]["raw"].get<uint64_t>() == 0x5100000004010101ULL);
  CHECK(j["chip_id"] == "59790fb1c39f35c1" + std::string(112, '0'));
  CHECK(j["report_data"].get<std::string>().rfind("0011223300", 0) == 0);
  CHECK(j.contains("current_mit_vector"));
  auto text = Cvmctl({"report", "show", dir.File("r.bin")});
  CHECK(text.out.find("product: Turin") != std::string::npos);
  CHECK(text.out.find("fmc=1 bootloader=1 tee=1 snp=4 microcode=81") != std::string::npos);
  CHECK(text.out.find("current_mit_vector: 0x0") != std::string::npos);
  auto ok = Cvmctl({"verify", dir.File("r.bin"), "--cert", sim + "/vcek.pem", "--cert",
                    sim + "/ask.pem", "--root", sim + "/ark.pem"});
  CHECK(ok.exit_code == 0);
  auto amd = Cvmctl({"verify", dir.File("r.bin"), "--cert", sim + "/vcek.pem", "--cert",
                     sim + "/ask.pem", "--cert", sim + "/ark.pem"});
  CHECK(amd.exit_code == 1);
  CHECK(amd.err.find("certificate chain") != std::string::npos);
}

TEST_CASE("cvmctl sim init refuses a malformed --tcb before generating keys (exit 2)") {
  cvm::testing::TempDir dir;
  auto r = Cvmctl({"sim", "init", dir.File("s"), "--tee", "snp", "--tcb", "snp=300"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("0..255") != std::string::npos);
}

TEST_CASE("cvmctl sim init refuses to overwrite a state directory unless --force") {
  cvm::testing::TempDir dir;
  std::string sim = dir.File("s");
  REQUIRE(Cvmctl({"sim", "init", sim, "--tee", "snp"}).exit_code == 0);
  auto again = Cvmctl({"sim", "init", sim, "--tee", "snp"});
  CHECK(again.exit_code == 2);
  CHECK(again.err.find("--force") != std::string::npos);
  CHECK(Cvmctl({"sim", "init", sim, "--tee", "snp", "--force"}).exit_code == 0);
}

TEST_CASE("cvmctl sim init --help shows every documented option") {
  auto r = Cvmctl({"sim", "init", "--help"});
  CHECK(r.exit_code == 0);
  for (const char* option : {"--product", "--report-version", "--chip-id", "--tcb", "--force"}) {
    CHECK(r.out.find(option) != std::string::npos);
  }
}

TEST_CASE("cvmctl sim report refuses report data over 64 bytes (exit 2)") {
  auto r = Cvmctl({"sim", "report", "/nonexistent", "--report-data", std::string(130, '0')});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("at most 64") != std::string::npos);
}

}  // namespace
}  // namespace cvm::snp

namespace cvm::snp {
namespace {

TEST_CASE("cvmctl verify takes the host's certificate table (auxblob) as --cert") {
  cvm::testing::TempDir dir;
  auto vcek = ParseCertificates(cvm::testing::ReadData("vectors/snp/genoa-v3/vcek.pem"));
  REQUIRE(vcek.ok());
  Bytes table =
      SerializeCertTable({{CertKindGuid(CertKind::kVcek), CertKind::kVcek, (*vcek)[0].Der()}});
  REQUIRE(WriteFileAtomic(dir.File("auxblob"), table).ok());
  auto r = Cvmctl({"verify", Vec("genoa-v3/report.bin"), "--cert", dir.File("auxblob"), kAt});
  CHECK(r.exit_code == 0);
}

}  // namespace
}  // namespace cvm::snp

namespace cvm::snp {
namespace {

// Fills a KDS cache with the Genoa vector's VCEK and chain, as an earlier fetch would have.
void FillCache(const std::string& dir) {
  Report r = *ParseReport(cvm::testing::ReadData("vectors/snp/genoa-v3/report.bin"));
  KdsClient cache(nullptr, dir);
  auto vcek = ParseCertificates(cvm::testing::ReadData("vectors/snp/genoa-v3/vcek.pem"));
  REQUIRE(MakeDirs(dir).ok());
  REQUIRE(WriteFileAtomic(cache.CachePath(VcekUrl(r, Product::kGenoa)), (*vcek)[0].Der()).ok());
  Bytes pem = cvm::testing::ReadData("vectors/snp/genoa-v3/ask.pem");
  Bytes ark = cvm::testing::ReadData("vectors/snp/genoa-v3/ark.pem");
  pem.insert(pem.end(), ark.begin(), ark.end());
  REQUIRE(
      WriteFileAtomic(cache.CachePath(CertChainUrl(Product::kGenoa, SigningKey::kVcek)), pem).ok());
}

TEST_CASE("cvmctl verify without --cert uses the KDS cache offline") {
  cvm::testing::TempDir dir;
  FillCache(dir.File("kds"));
  auto r = cvm::testing::Run({"/usr/bin/env", "CVM_KDS_CACHE=" + dir.File("kds"),
                              cvm::testing::BinaryDir() + "/cli/cvmctl", "verify",
                              Vec("genoa-v3/report.bin"), kAt});
  CHECK(r.exit_code == 0);
}

TEST_CASE("cvmctl snp fetch-certs --offline writes the cached VCEK and chain") {
  cvm::testing::TempDir dir;
  FillCache(dir.File("kds"));
  auto r = Cvmctl({"snp", "fetch-certs", Vec("genoa-v3/report.bin"), "--offline", "--cache",
                   dir.File("kds"), "--out", dir.File("out")});
  REQUIRE(r.exit_code == 0);
  auto vcek = ParseCertificates(cvm::testing::ReadData("vectors/snp/genoa-v3/vcek.pem"));
  auto written = ReadFile(dir.File("out/vcek.der"));
  REQUIRE(written.ok());
  CHECK(*written == (*vcek)[0].Der());
  auto chain = ParseCertificates(*ReadFile(dir.File("out/cert_chain.pem")));
  REQUIRE(chain.ok());
  CHECK(chain->size() == 2);
}

TEST_CASE("cvmctl snp fetch-certs offline with an empty cache says it is not cached (exit 2)") {
  cvm::testing::TempDir dir;
  auto r = Cvmctl(
      {"snp", "fetch-certs", Vec("genoa-v3/report.bin"), "--offline", "--cache", dir.File("kds")});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("not in the KDS cache") != std::string::npos);
}

TEST_CASE("cvmctl snp fetch-certs needs --product for a version 2 report") {
  auto r = Cvmctl({"snp", "fetch-certs", Vec("milan-v2/report.bin"), "--offline"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--product") != std::string::npos);
}

}  // namespace
}  // namespace cvm::snp

#include "common/clock.h"
#include "tests/snp/fixtures.h"

namespace cvm::snp {
namespace {

TEST_CASE(
    "cvmctl verify --product names the product of a version 2 report and refuses a wrong one") {
  std::vector<std::string> base = {
      "verify", Vec("milan-v2/report.bin"),  "--cert", Vec("milan-v2/vcek.der"),
      "--cert", Vec("milan-v2/ask_ark.pem"), kAt,      "--allow-debug"};
  auto milan = base, genoa = base, bogus = base;
  milan.insert(milan.end(), {"--product", "Milan"});
  genoa.insert(genoa.end(), {"--product", "Genoa"});
  bogus.insert(bogus.end(), {"--product", "Venice"});
  CHECK(Cvmctl(milan).exit_code == 0);
  auto wrong = Cvmctl(genoa);
  CHECK(wrong.exit_code == 1);
  CHECK(wrong.err.find("Genoa") != std::string::npos);
  auto unknown = Cvmctl(bogus);
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("Venice") != std::string::npos);
}

TEST_CASE("cvmctl verify --crl rejects a chain whose ASK the ARK has revoked") {
  const SimSnp& sim = testing::SimGenoa();
  cvm::testing::TempDir dir;
  auto report = sim.MakeReport(testing::Request());
  REQUIRE(report.ok());
  REQUIRE(WriteFileAtomic(dir.File("report.bin"), *report).ok());
  REQUIRE(WriteFileAtomic(dir.File("ark.pem"), sim.ark().Pem()).ok());
  REQUIRE(WriteFileAtomic(dir.File("chain.pem"), sim.vcek().Pem() + sim.ask().Pem()).ok());
  auto now = std::chrono::system_clock::now();
  auto ask_serial = std::stoull(sim.ask().SerialHex(), nullptr, 16);
  uint64_t revoked[] = {ask_serial};
  uint64_t none[] = {0x7fff};
  auto bad = IssueCrl(sim.ark(), sim.ark_key(), revoked, now - std::chrono::hours(1),
                      now + std::chrono::hours(24), DigestAlg::kSha384);
  auto good = IssueCrl(sim.ark(), sim.ark_key(), none, now - std::chrono::hours(1),
                       now + std::chrono::hours(24), DigestAlg::kSha384);
  REQUIRE(bad.ok());
  REQUIRE(good.ok());
  REQUIRE(WriteFileAtomic(dir.File("revoked.crl"), bad->Der()).ok());
  REQUIRE(WriteFileAtomic(dir.File("clean.crl"), good->Der()).ok());
  std::vector<std::string> base = {"verify", dir.File("report.bin"),
                                   "--cert", dir.File("chain.pem"),
                                   "--root", dir.File("ark.pem")};
  auto clean = base, rev = base;
  clean.insert(clean.end(), {"--crl", dir.File("clean.crl")});
  rev.insert(rev.end(), {"--crl", dir.File("revoked.crl")});
  CHECK(Cvmctl(base).exit_code == 0);
  CHECK(Cvmctl(clean).exit_code == 0);
  auto r = Cvmctl(rev);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("revoked") != std::string::npos);
}

}  // namespace
}  // namespace cvm::snp
