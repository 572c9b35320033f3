// End to end: the real cvm-agentd on a simulated SEV-SNP platform against the real cvm-rp on a
// loopback port. The relying party trusts the simulator's root and releases a resource when its
// policy accepts the simulated measurement (zeros); the daemon delivers it to a file sink.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "common/digest.h"
#include "common/encoding.h"
#include "common/file_util.h"
#include "common/http.h"
#include "tests/agent/agent_fixture.h"
#include "tests/agent/child_process.h"
#include "tests/testing/testing.h"

namespace cvm::agent {
namespace {

using namespace cvm::agent::testing;  // NOLINT(google-build-using-namespace)
using cvm::testing::TempDir;
using namespace std::chrono_literals;

TEST_CASE("cvm-agentd on simulated SNP gets its secret from cvm-rp and writes it with mode 0600") {
  TempDir dir;
  RelyingParty rp(dir);
  AgentSetup setup;
  setup.rp_url = rp.url();
  setup.rp_token_key = rp.token_key();
  auto started = StartAgent(dir, setup);
  ChildProcess& agent = *started;
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
  // The exchange went through one HTTP helper process, which has ended (the daemon reaped it
  // and counted its CPU) and left no process behind.
  req.url = "http://localhost/metrics";
  auto metrics = http->Send(req);
  REQUIRE(metrics.ok());
  std::string text(AsChars(metrics->body));
  CHECK(text.find("\ncvm_agent_http_helpers_total 1\n") != std::string::npos);
  CHECK(text.find("\ncvm_agent_http_helper_cpu_seconds_total 0\n") == std::string::npos);
  auto children = cvm::testing::Run({"/usr/bin/pgrep", "-P", std::to_string(agent.pid())});
  CHECK(children.out.empty());
  CHECK(agent.Stop() == 0);
  CHECK(agent.Log().find(kSecret) == std::string::npos);
}

TEST_CASE("cvm-agentd is denied by a cvm-rp whose policy wants another measurement") {
  TempDir dir;
  RpSetup rp_setup;
  rp_setup.measurement = kOtherMeasurement;
  RelyingParty rp(dir, rp_setup);
  AgentSetup setup;
  setup.rp_url = rp.url();
  setup.rp_token_key = rp.token_key();
  setup.deadline = "3s";
  auto started = StartAgent(dir, setup);
  ChildProcess& agent = *started;
  int code = agent.Wait(40s);
  INFO("agent log:\n" << agent.Log() << "\nrp log:\n" << rp.Log());
  CHECK(code == 1);  // attestation refused / deadline reached: nothing delivered
  CHECK(agent.Log().find("AttestationError") != std::string::npos);  // refused at attest
  // cvm-rp's diagnostic header names the reason, and the agent reports it.
  CHECK(agent.Log().find("relying party's reason: policy default: measurement") !=
        std::string::npos);
  CHECK(agent.Log().find("boot attestation failed") != std::string::npos);
  CHECK(::access(dir.File("secrets/app-key").c_str(), F_OK) != 0);
}

TEST_CASE("cvm-agentd sends its init-data, and cvm-rp releases only to the pinned init-data") {
  const std::string init = "version = \"0.1.0\"\nalgorithm = \"sha384\"\n[data]\nx = \"y\"\n";
  const std::string host_data = HexEncode(ByteSpan(Sha384(AsBytes(init))).first(32));
  for (bool pinned : {true, false}) {
    DYNAMIC_SECTION((pinned ? "the policy pins its digest" : "the policy pins another")) {
      TempDir dir;
      Write(dir.File("init-data.toml"), init);
      RpSetup rp_setup;
      rp_setup.policy_extra =
          "  host_data: [\"" + (pinned ? host_data : std::string(64, 'e')) + "\"]\n";
      RelyingParty rp(dir, rp_setup);
      AgentSetup setup;
      setup.rp_url = rp.url();
      setup.rp_token_key = rp.token_key();
      setup.deadline = "3s";
      setup.extra = "init_data: " + dir.File("init-data.toml") + "\n";
      auto started = StartAgent(dir, setup);
      ChildProcess& agent = *started;
      const std::string secret_file = dir.File("secrets/app-key");
      if (pinned) {
        auto end = std::chrono::steady_clock::now() + 30s;
        while (::access(secret_file.c_str(), F_OK) != 0 && agent.running() &&
               std::chrono::steady_clock::now() < end) {
          agent.Wait(50ms);
        }
        INFO("agent log:\n" << agent.Log() << "\nrp log:\n" << rp.Log());
        CHECK(::access(secret_file.c_str(), F_OK) == 0);
        CHECK(agent.Stop() == 0);
      } else {
        int code = agent.Wait(40s);
        INFO("agent log:\n" << agent.Log() << "\nrp log:\n" << rp.Log());
        CHECK(code == 1);
        CHECK(::access(secret_file.c_str(), F_OK) != 0);
        CHECK(agent.Log().find("host_data " + host_data + " is not accepted") != std::string::npos);
      }
    }
  }
}

}  // namespace
}  // namespace cvm::agent
