#include "tests/rp/rp_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <sstream>
#include <thread>

#include "common/file_util.h"
#include "evidence/kbs.h"
#include "evidence/trustee.h"
#include "tests/rp/rp_fixture.h"

namespace cvm::rp::testing {

using ::cvm::testing::Run;
using nlohmann::json;

namespace {

void Must(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "integration fixture: %s\n", what.c_str());
    std::abort();
  }
}

}  // namespace

const std::string kSimMeasurement(96, '0');
const std::string kOtherMeasurement(96, 'a');

std::string Cvmctl() { return ::cvm::testing::BinaryDir() + "/cli/cvmctl"; }
std::string CvmRp() { return ::cvm::testing::BinaryDir() + "/rp/cvm-rp"; }

// The simulated platforms, made with cvmctl once per day and build tree (ctest runs each test
// case as its own process, and the SNP simulator's RSA-4096 keys are slow under the sanitizers):
// BinaryDir()/tests/rp/sims-YYYYMMDD/{sim-snp,sim-tdx}. Built in a private directory and renamed
// into place, so concurrent test processes never see half a state.
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
std::string Policy(const std::string& measurement) {
  return "version: 1\n"
         "default:\n"
         "  tee: [snp, tdx]\n"
         "  allow_simulated: true\n"
         "  snp_measurements: [" +
         measurement +
         "]\n"
         "  max_evidence_age: 5m\n";
}

RpProcess::RpProcess(const std::string& policy, const std::string& extra_config) {
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
      "/root.pem]\n  tdx_collateral: " + sims.tdx_collateral + "\n" + extra_config;
  Must(WriteFileAtomic(dir_.File("rp.yaml"), AsBytes(config)).ok(), "write config");
  Start(dir_.File("rp.yaml"), {http, https});
  http_base_ = "http://127.0.0.1:" + std::to_string(http);
  https_base_ = "https://127.0.0.1:" + std::to_string(https);
}

RpProcess::RpProcess(const std::string& config_file, uint16_t port) {
  Start(config_file, {port});
  http_base_ = "http://127.0.0.1:" + std::to_string(port);
}

int RpProcess::Stop() {
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

std::vector<json> RpProcess::Audit() const {
  std::vector<json> out;
  std::istringstream in(TextOf(audit_file_));
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line, nullptr, false));
  return out;
}

json RpProcess::LastAudit(const std::string& event) const {
  auto records = Audit();
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    if (it->is_object() && it->value("event", "") == event) return *it;
  }
  return nullptr;
}

bool RpProcess::AnyResourceReleased() const {
  for (const auto& r : Audit()) {
    if (r.is_object() && r.value("event", "") == "resource" && r.value("verdict", "") == "allow") {
      return true;
    }
  }
  return false;
}

void RpProcess::Start(const std::string& config_file, const std::vector<uint16_t>& ports) {
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

std::string SimAttestBody(const std::string& nonce, const json& jwk, const Attempt& attempt) {
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
  platform.gpu = attempt.gpu;
  auto bundle = evidence::Collect(request, platform);
  INFO((bundle.ok() ? std::string() : bundle.status().ToString()));
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
                                          const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {Cvmctl(), "kbs",        "get-resource", "--url",
                                   base,     "--no-proxy", "--path",       kResource,
                                   "--tee",  tee,          "--sim",        sim};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return Run(argv);
}

}  // namespace cvm::rp::testing
