// End to end: the real cvm-agentd on a simulated SEV-SNP platform against the real cvm-rp on a
// loopback port. The relying party trusts the simulator's root and releases a resource when its
// policy accepts the simulated measurement (zeros); the daemon delivers it to a file sink.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "common/file_util.h"
#include "common/http.h"
#include "common/keys.h"
#include "snp/sim.h"
#include "tests/agent/child_process.h"
#include "tests/testing/testing.h"

namespace cvm::agent {
namespace {

using cvm::agent::testing::ChildProcess;
using cvm::testing::TempDir;
using namespace std::chrono_literals;

constexpr char kSecret[] = "integration secret released by cvm-rp";
constexpr char kZeroMeasurement[] =
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000";
constexpr char kOtherMeasurement[] =
    "111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
    "111";

std::string Binary(const std::string& relative) {
  return cvm::testing::BinaryDir() + "/" + relative;
}

void Write(const std::string& path, std::string_view text, mode_t mode = 0644) {
  REQUIRE(WriteFileAtomic(path, text, mode).ok());
}

// A relying party (cvm-rp) in `dir` whose policy accepts exactly `measurement`, serving on a
// port the kernel picks; the simulated SNP platform's ARK in dir/sim is its only SNP root.
class RelyingParty {
 public:
  RelyingParty(const TempDir& dir, const std::string& measurement) {
    auto key = GenerateEcKey(Curve::kP256);
    REQUIRE(key.ok());
    auto priv = PrivateKeyToPem(key->get());
    REQUIRE(priv.ok());
    Write(dir.File("token.key"), priv->chars(), 0600);
    auto pub = PublicKeyToPem(key->get());
    REQUIRE(pub.ok());
    Write(dir.File("token.pub"), *pub);
    Write(dir.File("policy.yaml"),
          "version: 1\ndefault:\n  tee: [snp]\n  allow_simulated: true\n"
          "  allow_debug: false\n  max_evidence_age: 5m\n"
          "  snp_measurements: [\"" +
              measurement + "\"]\n");
    Write(dir.File("cvm-rp.yaml"), std::string("listen:\n  - {address: 127.0.0.1, port: 0}\n"
                                               "token_key: token.key\npolicy: policy.yaml\n"
                                               "resources:\n  inline:\n"
                                               "    default/key/app: {value: \"") +
                                       kSecret +
                                       "\"}\n"
                                       "session_timeout: 5m\nthreads: 2\naudit_log: audit.log\n"
                                       "diagnostic_header: true\n"
                                       "trust_anchors:\n  snp_roots: [sim/ark.pem]\n");
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{Binary("rp/cvm-rp"), "--config", dir.File("cvm-rp.yaml")},
        dir.File("cvm-rp.log"));
    const std::string marker = "serving the KBS protocol on http://127.0.0.1:";
    bool serving = process_->WaitForLog(marker, 20s);
    INFO("cvm-rp log:\n" << process_->Log());
    REQUIRE(serving);
    std::string log = process_->Log();
    size_t at = log.find(marker) + marker.size();
    url_ = "http://127.0.0.1:" + log.substr(at, log.find('/', at) - at);
  }
  const std::string& url() const { return url_; }
  std::string Log() const { return process_->Log(); }

 private:
  std::unique_ptr<ChildProcess> process_;
  std::string url_;
};

// dir/sim: a simulated SEV-SNP platform (Genoa, the simulator's defaults).
void CreateSimSnp(const TempDir& dir) {
  auto sim = snp::SimSnp::Create(snp::SimPlatform{}, dir.File("sim"));
  REQUIRE(sim.ok());
}

std::string AgentConfig(const TempDir& dir, const std::string& rp_url,
                        const std::string& deadline) {
  return "tee: sim-snp\nsim: {state_dir: " + dir.File("sim") +
         "}\n"
         "relying_parties:\n  - url: " +
         rp_url + "\n    token_key: " + dir.File("token.pub") +
         "\n"
         "timeouts: {connect: 2s, request: 5s, deadline: " +
         deadline +
         ", backoff_initial: 200ms, backoff_max: 1s}\n"
         "resources:\n  - name: app-key\n    path: default/key/app\n    sinks:\n      file: {}\n"
         "api: {socket: " +
         dir.File("run/api.sock") + "}\npaths: {secrets_dir: " + dir.File("secrets") + "}\n";
}

TEST_CASE("cvm-agentd on simulated SNP gets its secret from cvm-rp and writes it with mode 0600") {
  TempDir dir;
  CreateSimSnp(dir);
  RelyingParty rp(dir, kZeroMeasurement);
  Write(dir.File("agent.yaml"), AgentConfig(dir, rp.url(), "30s"));
  ChildProcess agent({Binary("agent/cvm-agentd"), "--config", dir.File("agent.yaml")},
                     dir.File("agent.log"));
  const std::string secret_file = dir.File("secrets/app-key");
  auto end = std::chrono::steady_clock::now() + 30s;
  while (::access(secret_file.c_str(), F_OK) != 0 && agent.running() &&
         std::chrono::steady_clock::now() < end) {
    agent.Wait(50ms);
  }
  INFO("agent log:\n" << agent.Log() << "\nrp log:\n" << rp.Log());
  REQUIRE(::access(secret_file.c_str(), F_OK) == 0);
  auto content = ReadTextFile(secret_file);
  REQUIRE(content.ok());
  CHECK(*content == kSecret);
  struct stat st {};
  REQUIRE(::stat(secret_file.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  // The daemon says it is ready and which relying party released it.
  auto http = NewCurlHttpClient();
  HttpRequest req;
  req.url = "http://localhost/v1/status";
  req.unix_socket = dir.File("run/api.sock");
  req.timeout = 5s;
  Result<HttpResponse> resp = Unavailable("not asked");
  for (int i = 0; i < 100; ++i) {
    resp = http->Send(req);
    if (resp.ok() && resp->status == 200 &&
        nlohmann::json::parse(AsChars(resp->body))["state"] == "ready") {
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  REQUIRE(resp.ok());
  auto status = nlohmann::json::parse(AsChars(resp->body));
  CHECK(status["state"] == "ready");
  CHECK(status.dump().find(rp.url()) != std::string::npos);
  CHECK(status.dump().find(kSecret) == std::string::npos);
  CHECK(agent.Stop() == 0);
  CHECK(agent.Log().find(kSecret) == std::string::npos);
}

TEST_CASE("cvm-agentd is denied by a cvm-rp whose policy wants another measurement") {
  TempDir dir;
  CreateSimSnp(dir);
  RelyingParty rp(dir, kOtherMeasurement);
  Write(dir.File("agent.yaml"), AgentConfig(dir, rp.url(), "3s"));
  ChildProcess agent({Binary("agent/cvm-agentd"), "--config", dir.File("agent.yaml")},
                     dir.File("agent.log"));
  int code = agent.Wait(40s);
  INFO("agent log:\n" << agent.Log() << "\nrp log:\n" << rp.Log());
  CHECK(code == 1);  // attestation refused / deadline reached: nothing delivered
  CHECK(agent.Log().find("relying party's reason: policy default: measurement") !=
        std::string::npos);
  CHECK(agent.Log().find("boot attestation failed") != std::string::npos);
  CHECK(::access(dir.File("secrets/app-key").c_str(), F_OK) != 0);
}

}  // namespace
}  // namespace cvm::agent
