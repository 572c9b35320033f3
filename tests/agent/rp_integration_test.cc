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
#include "tests/agent/child_process.h"
#include "tests/agent/rp_process.h"
#include "tests/testing/testing.h"

namespace cvm::agent {
namespace {

using cvm::agent::testing::ChildProcess;
using cvm::testing::TempDir;
using namespace std::chrono_literals;

using cvm::agent::testing::CreateSimSnp;
using cvm::agent::testing::kOtherMeasurement;
using cvm::agent::testing::kZeroMeasurement;
using cvm::agent::testing::RelyingParty;

constexpr const char* kSecret = cvm::agent::testing::kRpSecret;

std::string Binary(const std::string& relative) {
  return cvm::testing::BinaryDir() + "/" + relative;
}

void Write(const std::string& path, std::string_view text, mode_t mode = 0644) {
  REQUIRE(WriteFileAtomic(path, text, mode).ok());
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
  CHECK(agent.Log().find("PolicyDeny") != std::string::npos);
  CHECK(agent.Log().find("boot attestation failed") != std::string::npos);
  CHECK(::access(dir.File("secrets/app-key").c_str(), F_OK) != 0);
}

}  // namespace
}  // namespace cvm::agent
