// Faults during boot attestation, with the real cvm-agentd (simulated SNP): a relying party that
// closes the connection mid-response or answers bytes that are not UTF-8, a TLS key that does not
// match the pin, a clock skewed past the token's lifetime (through the attester's clock seam),
// and kill -9 while secrets are being written. Whatever happens, no secret is released or left
// partially written, and the exit status and /v1/status say why.
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "agent/collect_source.h"
#include "agent/config.h"
#include "agent/kbs_attester.h"
#include "agent/platform.h"
#include "common/clock.h"
#include "common/file_util.h"
#include "tests/agent/agent_fixture.h"
#include "tests/agent/raw_http.h"

namespace cvm::agent {
namespace {

using namespace cvm::agent::testing;  // NOLINT(google-build-using-namespace)
using cvm::testing::TempDir;
using namespace std::chrono_literals;

std::vector<std::string> DirEntries(const std::string& path) {
  std::vector<std::string> out;
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  ::closedir(d);
  return out;
}

// Runs the daemon against `rp_url` with a short deadline; while it retries, /v1/status names the
// failure and the secret is not served. Returns the daemon's exit code.
int RunUntilDeadline(const TempDir& dir, AgentSetup setup, const std::string& expected_reason) {
  setup.deadline = "2s";
  setup.api_sink = "{uids: [0]}";
  auto agent = StartAgent(dir, setup);
  std::string socket = dir.File("run/api.sock");
  std::string status = WaitForApi(socket, "/v1/status", 20, expected_reason);
  INFO("status: " << status << "\nagent log:\n" << agent->Log());
  auto j = nlohmann::json::parse(status, nullptr, false);
  CHECK(j.is_object());
  CHECK(status.find(expected_reason) != std::string::npos);
  if (j.is_object()) {
    CHECK(j.value("state", "") != "ready");
    CHECK(j["last_result"].is_object());
  }
  RawResponse secret = ExchangeUnix(socket, Get("/v1/secrets/app-key"));
  if (secret.status != 0) CHECK(secret.status == 503);  // 0: the daemon already gave up
  CHECK(secret.body.find(kSecret) == std::string::npos);
  int code = agent->Wait(30s);
  std::string log = agent->Log();
  INFO("agent log:\n" << log);
  CHECK(log.find("boot attestation failed") != std::string::npos);
  CHECK(log.find("within 2.0s") != std::string::npos);
  CHECK(log.find(expected_reason) != std::string::npos);
  CHECK(DirEntries(dir.File("secrets")).empty());
  return code;
}

TEST_CASE("cvm-agentd gives up at the deadline on a relying party that closes mid-response") {
  TempDir dir;
  const std::string full = FullChallengeResponse();
  BrokenServer server(full.substr(0, full.size() - 100));  // headers and part of the body
  REQUIRE(server.port() != 0);
  AgentSetup setup;
  setup.rp_url = "http://127.0.0.1:" + std::to_string(server.port());
  int code = RunUntilDeadline(dir, setup, "unavailable");
  CHECK(code == 1);
  CHECK(server.served() >= 2);  // it retried
}

TEST_CASE(
    "cvm-agentd keeps /v1/status answering when a relying party sends bytes that are not UTF-8") {
  TempDir dir;
  const std::string garbage = "\xff\xfe{\"nonce\": \xc3\x28\x80}";
  BrokenServer server("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(garbage.size()) + "\r\n\r\n" + garbage);
  REQUIRE(server.port() != 0);
  AgentSetup setup;
  setup.rp_url = "http://127.0.0.1:" + std::to_string(server.port());
  int code = RunUntilDeadline(dir, setup, "not valid JSON");
  CHECK(code == 1);
}

TEST_CASE("cvm-agentd refuses a relying party whose TLS key does not match the pin") {
  TempDir dir;
  RpSetup rp_setup;
  rp_setup.tls = true;
  RelyingParty rp(dir, rp_setup);
  AgentSetup setup;
  setup.rp_url = rp.url();
  setup.rp_token_key = rp.token_key();
  // The right CA (so only the pin can fail), the SHA-256 of some other key.
  setup.rp_extra =
      "    ca_file: " + rp.ca_file() + "\n    pin_sha256: " + std::string(64, 'a') + "\n";
  int code = RunUntilDeadline(dir, setup, "does not match the pinned SHA-256");
  CHECK(code == 1);
  // The handshake failed before any request reached the relying party.
  CHECK(rp.AuditText().find("\"attest\"") == std::string::npos);
}

// The system clock moved by a fixed offset.
class SkewedClock final : public Clock {
 public:
  explicit SkewedClock(std::chrono::seconds offset) : offset_(offset) {}
  TimePoint Now() const override { return SystemClock::Get().Now() + offset_; }

 private:
  std::chrono::seconds offset_;
};

TEST_CASE("The attester refuses a token already expired by its clock and accepts it in sync") {
  TempDir dir;
  RelyingParty rp(dir);
  AgentSetup setup;
  setup.rp_url = rp.url();
  setup.rp_token_key = rp.token_key();
  auto config = ParseConfig(AgentConfig(dir, setup), "agent.yaml");
  REQUIRE(config.ok());
  auto platform = DetectPlatform(*config, PlatformEnv{});
  REQUIRE(platform.ok());
  auto collector = EvidenceCollector::Open(*config, *platform);
  REQUIRE(collector.ok());
  const std::vector<std::string> paths = {"default/key/app"};
  // cvm-rp's tokens live 5 minutes: a guest clock 10 minutes ahead sees it expired on arrival.
  SkewedClock ahead(10min);
  KbsAttesterDeps deps;
  deps.clock = &ahead;
  deps.new_http = HelperHttp();
  auto skewed = NewKbsAttester(*config, *collector, deps);
  REQUIRE(skewed.ok());
  auto refused = (*skewed)->Attest(config->relying_parties[0], paths, ahead.Now() + 20s);
  INFO("rp log:\n" << rp.Log());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Code::kRejected);
  CHECK(refused.status().message().find("expired") != std::string::npos);
  // The same exchange with the clock in sync gets the secret.
  KbsAttesterDeps synced_deps;
  synced_deps.new_http = HelperHttp();
  auto synced = NewKbsAttester(*config, *collector, synced_deps);
  REQUIRE(synced.ok());
  auto outcome =
      (*synced)->Attest(config->relying_parties[0], paths, SystemClock::Get().Now() + 20s);
  INFO(outcome.status().ToString());
  REQUIRE(outcome.ok());
  CHECK(AsChars(outcome->resources.at("default/key/app").view()) == kSecret);
}

TEST_CASE("kill -9 while secrets are written leaves each secret file absent or complete") {
  TempDir dir;
  // Eight resources of 48 KiB each, so that the writes take a moment.
  RpSetup rp_setup;
  rp_setup.resources.clear();
  std::map<std::string, std::string> expected;  // file name -> content
  std::string resources;
  for (int i = 0; i < 8; ++i) {
    std::string value(48 << 10, static_cast<char>('A' + i));
    // Appended piece by piece: GCC 12 -O3 reports a false -Wrestrict for "k" + std::to_string(i).
    std::string name(1, 'k');
    name += std::to_string(i);
    std::string path = "default/key/";
    path += name;
    rp_setup.resources.emplace_back(path, value);
    expected[name] = value;
    resources += "  - name: ";
    resources += name;
    resources += "\n    path: ";
    resources += path;
    resources += "\n    sinks:\n      file: {}\n";
  }
  RelyingParty rp(dir, rp_setup);
  AgentSetup setup;
  setup.rp_url = rp.url();
  setup.rp_token_key = rp.token_key();
  setup.resources = resources;
  const std::string secrets = dir.File("secrets");
  // Each file under secrets/ is a complete secret or (until the next start) a temporary file.
  auto check_files = [&](bool temporaries_allowed) {
    for (const auto& name : DirEntries(secrets)) {
      INFO(name);
      auto it = expected.find(name);
      if (it == expected.end()) {
        CHECK(temporaries_allowed);
        CHECK(name.find(".tmp.") != std::string::npos);
        continue;
      }
      auto content = ReadTextFile(secrets + "/" + name, 1 << 20);
      REQUIRE(content.ok());
      CHECK(*content == it->second);
    }
  };
  // Kill it as soon as `seen` entries exist in secrets/, for several values of `seen`.
  for (size_t seen : {1u, 3u, 6u, 8u}) {
    auto agent = StartAgent(dir, setup);
    auto end = std::chrono::steady_clock::now() + 30s;
    while (DirEntries(secrets).size() < seen && agent->running() &&
           std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(200us);
    }
    ::kill(agent->pid(), SIGKILL);
    INFO("killed after " << seen << " entries; agent log:\n" << agent->Log());
    CHECK(agent->Wait(10s) == -1);
    check_files(true);
  }
  // The next start clears what a killed run left behind and delivers everything.
  auto agent = StartAgent(dir, setup);
  std::string status =
      WaitForApi(dir.File("run/api.sock"), "/v1/status", 30, "\"state\": \"ready\"");
  INFO("agent log:\n" << agent->Log());
  CHECK(status.find("\"state\": \"ready\"") != std::string::npos);
  check_files(false);
  CHECK(DirEntries(secrets).size() == expected.size());
  CHECK(agent->Stop() == 0);
}

}  // namespace
}  // namespace cvm::agent
