// The real `cvm-rp` binary on loopback HTTP and HTTPS against real (simulated) evidence: the
// simulators' state comes from `cvmctl sim init`, the client is `cvmctl kbs` or, where a test
// needs to misbehave, the evidence library driven directly (Collect + ToTrusteeEvidence). Every
// cvm-rp process is stopped when its test ends, also on failure (tests/rp/rp_process.h).
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <utility>

#include "common/file_util.h"
#include "evidence/jose.h"
#include "evidence/kbs.h"
#include "snp/sim.h"
#include "tests/rp/http_client.h"
#include "tests/rp/rp_process.h"
#include "tests/testing/testing.h"

namespace cvm::rp::testing {
namespace {

using ::cvm::testing::Run;
using ::cvm::testing::TempDir;
using nlohmann::json;

TEST_CASE(
    "cvmctl kbs get-resource obtains the secret from cvm-rp with simulated SNP evidence "
    "over HTTP and HTTPS",
    "[rp][integration]") {
  RpProcess rp;
  auto http = GetResource(rp.http_base(), "sim-snp", GetSims().snp);
  INFO("cvmctl: " << http.err << "\ncvm-rp: " << rp.Log());
  CHECK(http.exit_code == 0);
  CHECK(http.out == kSecret);
  auto https = GetResource(rp.https_base(), "sim-snp", GetSims().snp, {"--ca-file", rp.ca_file()});
  CHECK(https.exit_code == 0);
  CHECK(https.out == kSecret);
  json audit = rp.LastAudit("resource");
  CHECK(Field(audit, "verdict") == "allow");
  CHECK(Field(audit, "tee") == "snp");
  CHECK(audit.dump().find(kSecret) == std::string::npos);
  // A clean SIGTERM shutdown.
  CHECK(rp.Stop() == 0);
}

TEST_CASE("cvmctl kbs attest prints an ES256 token from cvm-rp for simulated SNP evidence",
          "[rp][integration]") {
  RpProcess rp;
  auto r = Run({Cvmctl(), "kbs", "attest", "--url", rp.https_base(), "--ca-file", rp.ca_file(),
                "--tee", "sim-snp", "--sim", GetSims().snp});
  INFO("cvmctl: " << r.err << "\ncvm-rp: " << rp.Log());
  REQUIRE(r.exit_code == 0);
  CHECK(std::count(r.out.begin(), r.out.end(), '.') == 2);
}

TEST_CASE(
    "cvmctl kbs get-resource obtains the secret with simulated TDX evidence and the "
    "configured sim collateral",
    "[rp][integration]") {
  RpProcess rp;
  auto r = GetResource(rp.https_base(), "sim-tdx", GetSims().tdx, {"--ca-file", rp.ca_file()});
  INFO("cvmctl: " << r.err << "\naudit: " << ReasonsOf(rp.LastAudit("attest")));
  CHECK(r.exit_code == 0);
  CHECK(r.out == kSecret);
  CHECK(Field(rp.LastAudit("attest"), "tee") == "tdx");
}

TEST_CASE("A client built on the evidence library decrypts the JWE that cvm-rp sealed to it",
          "[rp][integration]") {
  RpProcess rp;
  auto key = evidence::TeeKeyPair::Generate();
  REQUIRE(key.ok());
  KbsClient client(rp.https_base(), rp.ca_file());
  REQUIRE(client.Auth("snp").status == 200);
  Reply attest = client.Attest(SimAttestBody(client.nonce, key->PublicJwk()));
  INFO("audit: " << ReasonsOf(rp.LastAudit("attest")));
  REQUIRE(attest.status == 200);
  Reply resource = client.Resource(kResource);
  REQUIRE(resource.status == 200);
  auto plain = key->Decrypt(resource.body);
  REQUIRE(plain.ok());
  CHECK(std::string(plain->view().begin(), plain->view().end()) == kSecret);
}

TEST_CASE("cvm-rp refuses simulated SNP evidence with a measurement the policy does not list",
          "[rp][integration]") {
  RpProcess rp(Policy(kOtherMeasurement));
  auto r = GetResource(rp.http_base(), "sim-snp", GetSims().snp);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("AttestationError") != std::string::npos);
  CHECK(r.out.empty());
  json audit = rp.LastAudit("attest");
  CHECK(Field(audit, "verdict") == "deny");
  CHECK(StatusOf(audit) == 401);
  INFO("audit: " << ReasonsOf(audit));
  CHECK(HasReason(audit, "measurement"));
  CHECK_FALSE(rp.AnyResourceReleased());
}

TEST_CASE("cvm-rp refuses a debug guest", "[rp][integration]") {
  RpProcess rp;
  auto key = evidence::TeeKeyPair::Generate();
  REQUIRE(key.ok());
  KbsClient client(rp.http_base());
  REQUIRE(client.Auth("snp").status == 200);
  Attempt debug;
  debug.tweak = [](evidence::CollectRequest& r) {
    snp::SimReportRequest launch;
    launch.policy |= 1ull << 19;  // SNP guest policy DEBUG
    r.sim_snp_launch = launch;
  };
  Reply reply = client.Attest(SimAttestBody(client.nonce, key->PublicJwk(), debug));
  ExpectAttestRefused(rp, client, reply, "DEBUG");
}

TEST_CASE("cvm-rp refuses evidence bound to another key than the one presented",
          "[rp][integration]") {
  RpProcess rp;
  auto key = evidence::TeeKeyPair::Generate();
  auto other = evidence::TeeKeyPair::Generate();
  REQUIRE(key.ok());
  REQUIRE(other.ok());
  KbsClient client(rp.http_base());
  REQUIRE(client.Auth("snp").status == 200);
  Attempt rebound;
  json other_jwk = other->PublicJwk();
  rebound.tweak = [&](evidence::CollectRequest& r) { r.tee_pubkey = other_jwk; };
  Reply reply = client.Attest(SimAttestBody(client.nonce, key->PublicJwk(), rebound));
  ExpectAttestRefused(rp, client, reply, "REPORT_DATA");
}

TEST_CASE("cvm-rp refuses a report with one byte changed", "[rp][integration]") {
  RpProcess rp;
  auto key = evidence::TeeKeyPair::Generate();
  REQUIRE(key.ok());
  KbsClient client(rp.http_base());
  REQUIRE(client.Auth("snp").status == 200);
  Attempt tampered;
  tampered.corrupt = [](json& primary) {
    json& byte = primary["attestation_report"]["measurement"][0];
    byte = byte.get<int>() ^ 1;
  };
  Reply reply = client.Attest(SimAttestBody(client.nonce, key->PublicJwk(), tampered));
  ExpectAttestRefused(rp, client, reply, "signature");
}

TEST_CASE("cvm-rp refuses evidence replayed into a new session", "[rp][integration]") {
  RpProcess rp;
  auto key = evidence::TeeKeyPair::Generate();
  REQUIRE(key.ok());
  KbsClient first(rp.http_base());
  REQUIRE(first.Auth("snp").status == 200);
  std::string body = SimAttestBody(first.nonce, key->PublicJwk());
  REQUIRE(first.Attest(body).status == 200);
  KbsClient second(rp.http_base());
  REQUIRE(second.Auth("snp").status == 200);
  Reply replay = second.Attest(body);
  ExpectAttestRefused(rp, second, replay, "nonce");
  // The first session's grant is untouched by the replay.
  CHECK(first.Resource(kResource).status == 200);
}

TEST_CASE("cvm-rp refuses an unknown or unsupported TEE kind at auth", "[rp][integration]") {
  RpProcess rp;
  for (const char* tee : {"sgx", "no-such-tee"}) {
    KbsClient client(rp.http_base());
    Reply reply = client.Auth(tee);
    CHECK(reply.status == 401);
    CHECK(client.cookie.empty());
    json audit = rp.LastAudit("auth");
    CHECK(Field(audit, "verdict") == "deny");
    INFO("audit: " << ReasonsOf(audit));
    CHECK(HasReason(audit, tee));
    CHECK(client.Resource(kResource).status == 401);
  }
  auto r = Run({Cvmctl(), "kbs", "get-resource", "--url", rp.http_base(), "--no-proxy", "--path",
                kResource, "--tee", "sgx"});
  CHECK(r.exit_code == 2);
  CHECK_FALSE(rp.AnyResourceReleased());
}

TEST_CASE("The shipped demo configuration releases its secret to sim-snp and sim-tdx evidence",
          "[rp][integration]") {
  const Sims& sims = GetSims();
  TempDir work;
  namespace fs = std::filesystem;
  std::string src = ::cvm::testing::SourceDir() + "/config/";
  uint16_t port = FreePort();
  auto yaml = ReadTextFile(src + "cvm-rp-sim.yaml");
  REQUIRE(yaml.ok());
  std::string config = *yaml;
  auto at = config.find("port: 8080");
  REQUIRE(at != std::string::npos);
  config.replace(at, 10, "port: " + std::to_string(port));
  REQUIRE(WriteFileAtomic(work.File("cvm-rp-sim.yaml"), AsBytes(config)).ok());
  fs::copy_file(src + "policy-sim.yaml", work.File("policy-sim.yaml"));
  fs::create_directory_symlink(sims.snp, work.File("sim-snp"));
  fs::create_directory_symlink(sims.tdx, work.File("sim-tdx"));
  auto check = Run({CvmRp(), "--check-config", work.File("cvm-rp-sim.yaml")});
  INFO("check-config: " << check.out << check.err);
  REQUIRE(check.exit_code == 0);

  RpProcess rp(work.File("cvm-rp-sim.yaml"), port);
  for (const auto& [tee, sim] : {std::pair{"sim-snp", sims.snp}, std::pair{"sim-tdx", sims.tdx}}) {
    auto r = GetResource(rp.http_base(), tee, sim);
    INFO(tee << ": " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "demo secret released by cvm-rp");
  }
}

}  // namespace
}  // namespace cvm::rp::testing
