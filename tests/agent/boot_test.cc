#include "agent/boot.h"

#include <catch2/catch.hpp>

#include "common/file_util.h"
#include "tests/agent/fakes.h"
#include "tests/testing/testing.h"

namespace cvm::agent {
namespace {

using testing::FakeAttester;
using testing::FakeSleeper;
using testing::RecordingNotifier;

struct BootFixture {
  cvm::testing::TempDir dir;
  Config config;
  FixedClock clock{TimePoint(std::chrono::seconds(1'800'000'000))};
  FakeSleeper sleeper{clock};
  RecordingNotifier notifier;
  SecretStore secrets;
  Metrics metrics;
  std::unique_ptr<AgentState> state;
  std::unique_ptr<FakeAttester> attester;
  std::unique_ptr<BootFlow> flow;

  BootFixture() {
    config.relying_parties = {{"https://rp1", "", "", "", ""}, {"https://rp2", "", "", "", ""}};
    config.timeouts.deadline = std::chrono::seconds(60);
    config.timeouts.backoff_initial = std::chrono::seconds(1);
    config.timeouts.backoff_max = std::chrono::seconds(8);
    config.timeouts.jitter = 0;
    config.paths.secrets_dir = dir.File("secrets");
    ResourceConfig r;
    r.name = "db";
    r.path = "default/app/db";
    r.file = FileSink{"db", 0, 0, 0600};
    config.resources = {r};
  }
  void Start(FakeAttester::Script script) {
    state = std::make_unique<AgentState>(config, Platform{TeeKind::kSimSnp, "test", false, true},
                                         clock.Now());
    attester = std::make_unique<FakeAttester>(std::move(script));
    BootDeps d;
    d.config = &config;
    d.attester = attester.get();
    d.secrets = &secrets;
    d.state = state.get();
    d.metrics = &metrics;
    d.notifier = &notifier;
    d.clock = &clock;
    d.sleeper = &sleeper;
    d.random = [] { return 0.5; };
    flow = std::make_unique<BootFlow>(d);
  }
  bool FileWritten() { return ReadFile(dir.File("secrets/db")).ok(); }
};

TEST_CASE("A relying party that is down at start and then up is retried until it answers") {
  BootFixture f;
  f.config.relying_parties.resize(1);
  f.Start([](const std::string&, int call) {
    return call < 4 ? Unavailable("connection refused") : Status::Ok();
  });
  REQUIRE(f.flow->RunBoot().ok());
  CHECK(f.attester->calls.size() == 4);
  // Exponential backoff: 1 s, 2 s, 4 s (jitter 0).
  REQUIRE(f.sleeper.waits.size() == 3);
  CHECK(f.sleeper.waits[0] == std::chrono::seconds(1));
  CHECK(f.sleeper.waits[1] == std::chrono::seconds(2));
  CHECK(f.sleeper.waits[2] == std::chrono::seconds(4));
  // The status said what it waited for, then READY=1 once delivered.
  CHECK(
      f.notifier.Saw("STATUS=[SIMULATED TEE] waiting 1.0s to retry (attempt 1 failed: "
                     "https://rp1: unavailable: connection refused)"));
  CHECK(f.notifier.Saw("READY=1"));
  CHECK(AsChars(*ReadFile(f.dir.File("secrets/db"))) == FakeAttester::SecretOf("default/app/db"));
  CHECK(f.state->phase() == AgentPhase::kReady);
  auto status = f.state->StatusJson(f.clock.Now());
  CHECK(status["last_result"]["ok"] == true);
  CHECK(status["last_result"]["attempts"] == 4);
  CHECK(status["resources"][0]["state"] == "delivered");
  CHECK(status["phases"].size() >= 4);
  CHECK(f.secrets.Has("db"));
}

TEST_CASE("A relying party that never answers ends at the deadline with nothing written") {
  BootFixture f;
  f.Start([](const std::string&, int) { return Unavailable("connection refused"); });
  Status s = f.flow->RunBoot();
  REQUIRE(s.code() == Code::kDeadlineExceeded);
  CHECK(s.message().find("within 60.0s") != std::string::npos);
  CHECK(s.message().find("https://rp2: unavailable: connection refused") != std::string::npos);
  CHECK_FALSE(f.FileWritten());
  CHECK_FALSE(f.secrets.Has("db"));
  CHECK_FALSE(f.notifier.Saw("READY=1"));
  CHECK(f.state->phase() == AgentPhase::kFailed);
  CHECK(f.notifier.Saw("STATUS=[SIMULATED TEE] failed: deadline exceeded"));
  // Never slept past the deadline.
  std::chrono::milliseconds slept{0};
  for (auto w : f.sleeper.waits) slept += w;
  CHECK(slept < std::chrono::seconds(60));
  // Each attempt was given the overall deadline.
  CHECK(f.attester->deadlines.front() == TimePoint(std::chrono::seconds(1'800'000'060)));
}

TEST_CASE("Garbage or a 500 from the relying party is an error that is retried") {
  BootFixture f;
  f.config.relying_parties.resize(1);
  f.Start([](const std::string&, int call) {
    if (call == 1) return InvalidInput("relying party answered 500 without a KBS error body");
    if (call == 2) return InvalidInput("challenge: not JSON");
    return Status::Ok();
  });
  REQUIRE(f.flow->RunBoot().ok());
  CHECK(f.attester->calls.size() == 3);
  auto m = f.metrics.Render();
  CHECK(m.find("cvm_agent_attestations_total{result=\"invalid\"} 2") != std::string::npos);
  CHECK(m.find("cvm_agent_attestations_total{result=\"ok\"} 1") != std::string::npos);
}

TEST_CASE("When the first relying party is down the second is used without waiting") {
  BootFixture f;
  f.Start([](const std::string& url, int) {
    return url == "https://rp1" ? Unavailable("connection refused") : Status::Ok();
  });
  REQUIRE(f.flow->RunBoot().ok());
  CHECK(f.attester->calls == std::vector<std::string>{"https://rp1", "https://rp2"});
  CHECK(f.sleeper.waits.empty());
  CHECK(f.state->StatusJson(f.clock.Now())["relying_party"] == "https://rp2");
}

TEST_CASE("A refusal by policy carries the relying party's reasons into the status") {
  BootFixture f;
  f.config.relying_parties.resize(1);
  f.config.timeouts.deadline = std::chrono::seconds(2);
  f.Start([](const std::string&, int) { return Rejected("PolicyDeny: measurement not allowed"); });
  Status s = f.flow->RunBoot();
  CHECK_FALSE(s.ok());
  auto status = f.state->StatusJson(f.clock.Now());
  CHECK(status["state"] == "failed");
  CHECK(status["last_result"]["reasons"][0] ==
        "https://rp1: rejected: PolicyDeny: measurement not allowed");
}

TEST_CASE("An unwritable secrets directory fails delivery without a partial file") {
  BootFixture f;
  REQUIRE(WriteFileAtomic(f.dir.File("secrets"), std::string_view("not a directory")).ok());
  f.Start([](const std::string&, int) { return Status::Ok(); });
  Status s = f.flow->RunBoot();
  REQUIRE_FALSE(s.ok());
  CHECK(s.ToString().find("secret directory") != std::string::npos);
  CHECK_FALSE(f.secrets.Has("db"));
  CHECK_FALSE(f.notifier.Saw("READY=1"));
  CHECK(f.state->StatusJson(f.clock.Now())["resources"][0]["state"] == "failed");
}

TEST_CASE("Backoff doubles up to its maximum and jitter stays within its bounds") {
  TimeoutsConfig t;
  t.backoff_initial = std::chrono::seconds(1);
  t.backoff_max = std::chrono::seconds(10);
  t.jitter = 0.2;
  CHECK(BootFlow::Backoff(t, 1, 0.5) == std::chrono::seconds(1));
  CHECK(BootFlow::Backoff(t, 3, 0.5) == std::chrono::seconds(4));
  CHECK(BootFlow::Backoff(t, 10, 0.5) == std::chrono::seconds(10));
  CHECK(BootFlow::Backoff(t, 1, 0.0) == std::chrono::milliseconds(800));
  CHECK(BootFlow::Backoff(t, 1, 0.999999) <= std::chrono::milliseconds(1200));
}

TEST_CASE("Without resources the daemon is ready at once") {
  BootFixture f;
  f.config.resources.clear();
  f.Start([](const std::string&, int) { return Unavailable("never called"); });
  REQUIRE(f.flow->RunBoot().ok());
  CHECK(f.attester->calls.empty());
  CHECK(f.notifier.Saw("READY=1"));
}

TEST_CASE("A re-attestation on request refreshes the secrets") {
  BootFixture f;
  f.config.relying_parties.resize(1);
  f.Start([&f](const std::string&, int call) {
    if (call == 2) f.flow->Stop();  // RunForever returns after this refresh
    return Status::Ok();
  });
  REQUIRE(f.flow->RunBoot().ok());
  f.flow->RequestAttest();
  f.flow->RunForever();
  CHECK(f.attester->calls.size() == 2);
  CHECK(f.metrics.Render().find("cvm_agent_secret_refreshes_total{resource=\"db\"} 1") !=
        std::string::npos);
  CHECK(f.flow->token() == "header.claims.signature");
}

TEST_CASE("A token that lives no longer than before_expiry is refreshed half-way, not in a loop") {
  BootFixture f;
  f.config.relying_parties.resize(1);
  f.config.refresh.before_expiry = std::chrono::minutes(5);
  f.Start([&f](const std::string&, int call) {
    if (call == 4) f.flow->Stop();  // RunForever returns after the third refresh
    return Status::Ok();
  });
  // Tokens live 5 minutes, as cvm-rp's and Trustee's do.
  f.attester->token_expiry = [&f] { return f.clock.Now() + std::chrono::minutes(5); };
  TimePoint start = f.clock.Now();
  REQUIRE(f.flow->RunBoot().ok());
  f.flow->RunForever();
  CHECK(f.attester->calls.size() == 4);
  // Three refreshes, each 2.5 minutes after the last delivery.
  CHECK(f.clock.Now() - start == std::chrono::seconds(3 * 150));
}

}  // namespace
}  // namespace cvm::agent
