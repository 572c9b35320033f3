// The real `cvm-rp` binary on loopback HTTP and HTTPS against real (simulated) evidence: the
// simulators' state comes from `cvmctl sim init`, the client is `cvmctl kbs` or, where a test
// needs to misbehave, the evidence library driven directly (Collect + ToTrusteeEvidence). Every
// cvm-rp process is stopped when its test ends, also on failure.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <memory>
#include <sstream>
#include <thread>

#include "common/file_util.h"
#include "evidence/collect.h"
#include "evidence/jose.h"
#include "evidence/kbs.h"
#include "evidence/trustee.h"
#include "tests/rp/http_client.h"
#include "tests/rp/rp_fixture.h"
#include "tests/testing/testing.h"

namespace cvm::rp::testing {
namespace {

using ::cvm::testing::Run;
using ::cvm::testing::TempDir;
using nlohmann::json;

constexpr char kSecret[] = "released only to attested guests";
constexpr char kResource[] = "default/key/demo";
// The simulators' launch measurement (snp::SimReportRequest default: zeros).
const std::string kSimMeasurement(96, '0');
const std::string kOtherMeasurement(96, 'a');

std::string Cvmctl() { return ::cvm::testing::BinaryDir() + "/cli/cvmctl"; }
std::string CvmRp() { return ::cvm::testing::BinaryDir() + "/rp/cvm-rp"; }

void Must(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "integration fixture: %s\n", what.c_str());
    std::abort();
  }
}

// The simulated platforms, made with cvmctl once per day and build tree (ctest runs each test
// case as its own process, and the SNP simulator's RSA-4096 keys are slow under the sanitizers):
// BinaryDir()/tests/rp/sims-YYYYMMDD/{sim-snp,sim-tdx}. Built in a private directory and renamed
// into place, so concurrent test processes never see half a state.
struct Sims {
  std::string root;
  std::string snp = root + "/sim-snp";
  std::string tdx = root + "/sim-tdx";
  std::string tdx_collateral = root + "/sim-tdx/collateral.json";
};

const Sims& GetSims() {
  static const Sims sims = [] {
    namespace fs = std::filesystem;
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char day[16];
    std::strftime(day, sizeof(day), "%Y%m%d", &tm);
    std::string root = ::cvm::testing::BinaryDir() + "/tests/rp/sims-" + day;
    if (!fs::exists(root + "/ready")) {
      std::error_code ec;
      fs::create_directories(::cvm::testing::BinaryDir() + "/tests/rp", ec);
      std::string tmp = root + ".tmp." + std::to_string(::getpid());
      fs::remove_all(tmp, ec);
      Sims t{tmp};
      auto snp = Run({Cvmctl(), "sim", "init", t.snp, "--tee", "snp"});
      Must(snp.exit_code == 0, "cvmctl sim init --tee snp: " + snp.err);
      auto tdx = Run({Cvmctl(), "sim", "init", t.tdx, "--tee", "tdx"});
      Must(tdx.exit_code == 0, "cvmctl sim init --tee tdx: " + tdx.err);
      auto coll = Run({Cvmctl(), "sim", "collateral", t.tdx, "-o", t.tdx_collateral});
      Must(coll.exit_code == 0, "cvmctl sim collateral: " + coll.err);
      Must(WriteFileAtomic(tmp + "/ready", AsBytes(std::string("ok\n"))).ok(), "ready marker");
      fs::rename(tmp, root, ec);
      if (ec) fs::remove_all(tmp, ec);  // another test process got there first: use its state
      Must(fs::exists(root + "/ready"), "simulator state in " + root);
    }
    return Sims{root};
  }();
  return sims;
}

// A loopback port nobody listens on right now.
uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  Must(fd >= 0, "socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  Must(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0, "bind");
  Must(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0, "getsockname");
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string TextOf(const std::string& file) {
  auto text = ReadTextFile(file);
  return text.ok() ? *text : std::string();
}

bool Accepts(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

// The policy of these tests: simulated roots allowed, the simulators' SNP measurement.
std::string Policy(const std::string& measurement = kSimMeasurement) {
  return "version: 1\n"
         "default:\n"
         "  tee: [snp, tdx]\n"
         "  allow_simulated: true\n"
         "  snp_measurements: [" +
         measurement +
         "]\n"
         "  max_evidence_age: 5m\n";
}

// A cvm-rp process with one HTTP and one HTTPS listener on free loopback ports, in its own
// directory (configuration, TLS certificate, token key, audit log, its stderr in rp.log).
// The destructor stops it: SIGTERM, then SIGKILL after 10 s.
class RpProcess {
 public:
  // `config` empty: a configuration written here from `policy`; otherwise a configuration file
  // whose listeners are replaced by the two free ports.
  explicit RpProcess(const std::string& policy = Policy()) {
    const Sims& sims = GetSims();
    ca_file_ = dir_.File("tls.crt");
    WriteTlsFiles(ca_file_, dir_.File("tls.key"));
    Must(WriteFileAtomic(dir_.File("policy.yaml"), AsBytes(policy)).ok(), "write policy");
    uint16_t http = FreePort(), https = FreePort();
    std::string config =
        "listen:\n"
        "  - {address: 127.0.0.1, port: " +
        std::to_string(http) +
        "}\n"
        "  - {address: 127.0.0.1, port: " +
        std::to_string(https) +
        ", tls: true}\n"
        "tls: {cert: tls.crt, key: tls.key}\n"
        "token_key: token.key\n"
        "policy: policy.yaml\n"
        "resources:\n"
        "  inline:\n"
        "    default/key/demo: {value: \"" +
        std::string(kSecret) +
        "\"}\n"
        "audit_log: audit.log\n"
        "diagnostic_header: true\n"
        "trust_anchors:\n"
        "  snp_roots: [" +
        sims.snp + "/ark.pem]\n  tdx_roots: [" + sims.tdx +
        "/root.pem]\n  tdx_collateral: " + sims.tdx_collateral + "\n";
    Must(WriteFileAtomic(dir_.File("rp.yaml"), AsBytes(config)).ok(), "write config");
    Start(dir_.File("rp.yaml"), {http, https});
    http_base_ = "http://127.0.0.1:" + std::to_string(http);
    https_base_ = "https://127.0.0.1:" + std::to_string(https);
  }

  // Serves an existing configuration file (its single listener must be HTTP on `port`).
  RpProcess(const std::string& config_file, uint16_t port) {
    Start(config_file, {port});
    http_base_ = "http://127.0.0.1:" + std::to_string(port);
  }

  ~RpProcess() { Stop(); }
  RpProcess(const RpProcess&) = delete;
  RpProcess& operator=(const RpProcess&) = delete;

  // Stops the process; its exit code (-1 when it had to be killed or died of a signal).
  int Stop() {
    if (pid_ <= 0) return exit_code_;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 200; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return exit_code_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    exit_code_ = -1;
    return exit_code_;
  }

  const std::string& http_base() const { return http_base_; }
  const std::string& https_base() const { return https_base_; }
  const std::string& ca_file() const { return ca_file_; }
  std::string Log() const { return TextOf(log_file_); }
  // The audit records, oldest first (the configuration's audit.log next to it).
  std::vector<json> Audit() const {
    std::vector<json> out;
    std::istringstream in(TextOf(audit_file_));
    for (std::string line; std::getline(in, line);)
      out.push_back(json::parse(line, nullptr, false));
    return out;
  }
  json LastAudit(const std::string& event) const {
    auto records = Audit();
    for (auto it = records.rbegin(); it != records.rend(); ++it) {
      if (it->is_object() && it->value("event", "") == event) return *it;
    }
    return nullptr;
  }
  // Whether any audit record released a resource.
  bool AnyResourceReleased() const {
    for (const auto& r : Audit()) {
      if (r.is_object() && r.value("event", "") == "resource" &&
          r.value("verdict", "") == "allow") {
        return true;
      }
    }
    return false;
  }

 private:
  void Start(const std::string& config_file, const std::vector<uint16_t>& ports) {
    std::string dir = std::filesystem::path(config_file).parent_path().string();
    log_file_ = dir_.File("rp.log");
    audit_file_ = dir + "/audit.log";
    pid_ = ::fork();
    Must(pid_ >= 0, "fork");
    if (pid_ == 0) {
      int null_fd = ::open("/dev/null", O_RDONLY);
      int log_fd = ::open(log_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(null_fd, 0);
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
      std::string rp = CvmRp();
      std::string flag = "--config";
      char* argv[] = {rp.data(), flag.data(), const_cast<char*>(config_file.c_str()), nullptr};
      ::execv(argv[0], argv);
      ::_exit(127);
    }
    // Ready when every listener accepts; fail (with its log) when it exits or takes 30 s.
    for (int i = 0; i < 600; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL("cvm-rp exited at start:\n" << Log());
      }
      bool ready = true;
      for (uint16_t p : ports) ready = ready && Accepts(p);
      if (ready) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    Stop();
    FAIL("cvm-rp did not listen within 30 s:\n" << Log());
  }

  TempDir dir_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
  std::string http_base_, https_base_, ca_file_, log_file_, audit_file_;
};

bool HasReason(const json& record, const std::string& fragment) {
  if (!record.is_object() || !record.contains("reasons")) return false;
  for (const auto& r : record["reasons"]) {
    if (r.is_string() && r.get<std::string>().find(fragment) != std::string::npos) return true;
  }
  return false;
}

// A string member of an audit record or error body ("" when absent or not an object).
std::string Field(const json& object, const std::string& name) {
  if (!object.is_object() || !object.contains(name) || !object[name].is_string()) return "";
  return object[name].get<std::string>();
}
int StatusOf(const json& record) {
  return record.is_object() && record.contains("status") && record["status"].is_number_integer()
             ? record["status"].get<int>()
             : 0;
}

std::string ReasonsOf(const json& record) { return record.is_object() ? record.dump() : "none"; }

// Evidence for a session built with the evidence library, as a guest would, with hooks for a
// test to misbehave: `tweak` changes the collection request, `corrupt` the primary evidence.
struct Attempt {
  std::function<void(evidence::CollectRequest&)> tweak;
  std::function<void(json&)> corrupt;
  std::string kind = "sim-snp";
};

std::string SimAttestBody(const std::string& nonce, const json& jwk, const Attempt& attempt = {}) {
  const Sims& sims = GetSims();
  evidence::CollectRequest request;
  auto kind = evidence::ParseCollectKind(attempt.kind);
  REQUIRE(kind.ok());
  request.kind = *kind;
  request.sim_dir = request.kind == evidence::CollectKind::kSimTdx ? sims.tdx : sims.snp;
  request.nonce = nonce;
  request.tee_pubkey = jwk;
  if (attempt.tweak) attempt.tweak(request);
  evidence::CollectPlatform platform;
  auto bundle = evidence::Collect(request, platform);
  REQUIRE(bundle.ok());
  auto trustee = evidence::ToTrusteeEvidence(*bundle);
  REQUIRE(trustee.ok());
  evidence::KbsAttestation a;
  a.nonce = nonce;
  a.tee_pubkey = jwk;
  a.primary_evidence = trustee->primary;
  a.additional_evidence = trustee->additional;
  if (attempt.corrupt) attempt.corrupt(a.primary_evidence);
  return evidence::ToJson(a).dump();
}

// Asserts the refusal of an attestation: 401 AttestationError, a deny audit line carrying
// `reason`, and the session gets nothing.
void ExpectAttestRefused(RpProcess& rp, KbsClient& client, const Reply& reply,
                         const std::string& reason) {
  CHECK(reply.status == 401);
  CHECK(Field(reply.Json(), "type") ==
        std::string(evidence::kKbsErrorTypePrefix) + "AttestationError");
  json audit = rp.LastAudit("attest");
  CHECK(Field(audit, "verdict") == "deny");
  CHECK(StatusOf(audit) == 401);
  INFO("audit: " << ReasonsOf(audit));
  CHECK(HasReason(audit, reason));
  Reply resource = client.Resource(kResource);
  CHECK(resource.status == 401);
  CHECK(resource.body.find(kSecret) == std::string::npos);
  CHECK_FALSE(rp.AnyResourceReleased());
}

// cvmctl kbs get-resource against `base`, returning the process result.
::cvm::testing::ProcessResult GetResource(const std::string& base, const std::string& tee,
                                          const std::string& sim,
                                          const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {Cvmctl(), "kbs",        "get-resource", "--url",
                                   base,     "--no-proxy", "--path",       kResource,
                                   "--tee",  tee,          "--sim",        sim};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return Run(argv);
}

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
