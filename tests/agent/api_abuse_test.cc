// API abuse against the real cvm-agentd (simulated SNP) on its unix socket and its loopback TCP
// port: oversized requests, malformed nonces, floods of connections, slow clients, path
// traversal and callers without permission. After each, the daemon still serves others and its
// descriptors and resident set are back near where they were (generous bounds: the sanitizer
// build's allocator keeps freed memory for a while).
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/file_util.h"
#include "tests/agent/agent_fixture.h"
#include "tests/agent/raw_http.h"

namespace cvm::agent {
namespace {

using namespace cvm::agent::testing;  // NOLINT(google-build-using-namespace)
using cvm::testing::TempDir;
using namespace std::chrono_literals;

// A daemon on the shared simulator, its API on dir/run/api.sock and 127.0.0.1:port, ready.
// With a relying party, it has attested and holds "app-key" (readable by root over the API).
class RunningAgent {
 public:
  explicit RunningAgent(const std::string& api_extra = "", const RelyingParty* rp = nullptr) {
    // Keep the sanitizer's quarantine of freed memory small, so the resident set means something.
    std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
    ::setenv("ASAN_OPTIONS", (asan + (asan.empty() ? "" : ":") + "quarantine_size_mb=4").c_str(),
             1);
    port = FreePort();
    AgentSetup setup;
    setup.api = "tcp_port: " + std::to_string(port) + (api_extra.empty() ? "" : ", " + api_extra);
    if (rp != nullptr) {
      setup.rp_url = rp->url();
      setup.rp_token_key = rp->token_key();
      setup.api_sink = "{uids: [0]}";
    }
    process = StartAgent(dir, setup);
    socket = dir.File("run/api.sock");
    std::string status = WaitForApi(socket, "/v1/status", 30, "\"state\": \"ready\"");
    INFO("agent log:\n" << process->Log());
    REQUIRE(status.find("\"state\": \"ready\"") != std::string::npos);
    // Warm up: the first answers allocate what every later one reuses.
    for (int i = 0; i < 50; ++i) {
      REQUIRE(ExchangeUnix(socket, Get("/v1/status")).status == 200);
      REQUIRE(ExchangeTcp(port, Get("/v1/status")).status == 200);
    }
    pid = process->pid();
    fds = OpenFds(pid);
    rss = RssKib(pid);
    REQUIRE(fds > 0);
    REQUIRE(rss > 0);
  }

  // Both listeners still answer, and within `limit` the descriptors are back to the baseline
  // (+2 for a lazily opened file) and the resident set within 32 MiB of it.
  void ExpectRecovered(std::chrono::milliseconds limit = 10s) const {
    CHECK(ExchangeUnix(socket, Get("/v1/status")).status == 200);
    CHECK(ExchangeTcp(port, Get("/healthz")).status == 200);
    auto end = std::chrono::steady_clock::now() + limit;
    int now = OpenFds(pid);
    while (now > fds + 2 && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(20ms);
      now = OpenFds(pid);
    }
    INFO("descriptors before " << fds << ", after " << now);
    CHECK(now <= fds + 2);
    long rss_now = RssKib(pid);
    INFO("resident set before " << rss << " KiB, after " << rss_now << " KiB");
    CHECK(rss_now <= rss + 32 * 1024);
    CHECK(process->running());
  }

  TempDir dir;
  std::unique_ptr<ChildProcess> process;
  std::string socket;
  uint16_t port = 0;
  pid_t pid = -1;
  int fds = 0;
  long rss = 0;
};

TEST_CASE("cvm-agentd answers oversized headers with 431 and oversized bodies with 413") {
  RunningAgent agent;
  const std::string big_header = "X-Filler: " + std::string(16 << 10, 'h') + "\r\n";
  const std::string big_body = std::string(64 << 10, 'b');
  const std::string post = "POST /v1/attest HTTP/1.1\r\nHost: localhost\r\nContent-Length: " +
                           std::to_string(big_body.size()) + "\r\nConnection: close\r\n\r\n" +
                           big_body;
  const std::string chunked =
      "POST /v1/attest HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
      "Connection: close\r\n\r\n10000\r\n" +
      big_body + "\r\n0\r\n\r\n";
  for (int round = 0; round < 20; ++round) {
    for (bool tcp : {false, true}) {
      auto send = [&](const std::string& request) {
        return tcp ? ExchangeTcp(agent.port, request) : ExchangeUnix(agent.socket, request);
      };
      INFO((tcp ? "TCP" : "unix socket") << ", round " << round);
      RawResponse headers = send(Get("/v1/status", big_header));
      CHECK(headers.status == 431);
      CHECK(headers.body.find("headers too large") != std::string::npos);
      RawResponse body = send(post);
      CHECK(body.status == 413);
      CHECK(body.body.find("body too large") != std::string::npos);
      RawResponse chunks = send(chunked);
      CHECK(chunks.status == 413);
    }
  }
  agent.ExpectRecovered();
}

TEST_CASE("cvm-agentd refuses malformed nonces on /v1/evidence with 400 and an error") {
  RunningAgent agent;
  const std::vector<std::string> targets = {
      "/v1/evidence",
      "/v1/evidence?nonce=",
      "/v1/evidence?nonce=short",
      "/v1/evidence?nonce=" + std::string(513, 'a'),
      "/v1/evidence?nonce=%zz%zz%zz%zz",
      "/v1/evidence?nonce=abcdefgh%",
      "/v1/evidence?nonce=abc%20defghijk",
      "/v1/evidence?nonce=%ff%fe%fd%fc%fb%fa%f9%f8",
      "/v1/evidence?nonce=%00%00%00%00%00%00%00%00",
      "/v1/evidence?nonce=abcd.efgh/ijkl",
      "/v1/evidence?nonce=abcdefgh12&raw=2",
      "/v1/evidence?raw=1&nonce=" + std::string(128, 'g'),
      "/v1/evidence?raw=1&nonce=" + std::string(64, 'a'),
      "/v1/evidence?raw=1&nonce=" + std::string(87, 'A'),
      "/aa/evidence",
      "/aa/evidence?runtime_data=" + std::string(65, 'r'),
      "/aa/evidence?runtime_data=%%%%&encoding=base64",
      "/aa/evidence?runtime_data=abcd&encoding=hex",
  };
  for (const auto& target : targets) {
    INFO(target);
    RawResponse r = ExchangeUnix(agent.socket, Get(target));
    CHECK(r.status == 400);
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    CHECK((j.is_object() && j.contains("error")));
  }
  // A well-formed nonce still gets evidence that carries it.
  RawResponse good = ExchangeTcp(agent.port, Get("/v1/evidence?nonce=abcdefgh12"));
  CHECK(good.status == 200);
  CHECK(good.body.find("abcdefgh12") != std::string::npos);
  agent.ExpectRecovered();
}

TEST_CASE("cvm-agentd survives 10,000 connections opened and dropped") {
  RunningAgent agent;
  const size_t log_before = agent.process->Log().size();
  int opened = 0;
  // 100 rounds of 100 connections held at once (more than max_connections), half of them on
  // each listener; a third send part of a request before they go.
  for (int round = 0; round < 100; ++round) {
    std::vector<Conn> conns;
    conns.reserve(100);
    for (int i = 0; i < 100; ++i) {
      Conn c = i % 2 ? Conn::Tcp(agent.port) : Conn::Unix(agent.socket);
      if (!c.ok()) continue;
      ++opened;
      if (i % 3 == 0) c.Send("GET /v1/sta");
      conns.push_back(std::move(c));
    }
  }
  CHECK(opened == 10000);
  agent.ExpectRecovered();
  // Refused connections are reported, but not with a log line each.
  size_t growth = agent.process->Log().size() - log_before;
  INFO("the log grew by " << growth << " bytes");
  CHECK(growth < 16u << 10);
}

TEST_CASE("Slow clients do not keep cvm-agentd from serving others and are cut off") {
  RunningAgent agent("read_timeout: 1s");
  // 24 clients that send half a request and then nothing.
  std::vector<Conn> slow;
  for (int i = 0; i < 24; ++i) {
    Conn c = i % 2 ? Conn::Tcp(agent.port) : Conn::Unix(agent.socket);
    REQUIRE(c.ok());
    REQUIRE(c.Send("GET /v1/status HTTP/1.1\r\nHost: loc"));
    slow.push_back(std::move(c));
  }
  // Everyone else is served, each well within the read timeout.
  for (int i = 0; i < 20; ++i) {
    auto start = std::chrono::steady_clock::now();
    RawResponse r = i % 2 ? ExchangeTcp(agent.port, Get("/v1/status"))
                          : ExchangeUnix(agent.socket, Get("/v1/status"));
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(r.status == 200);
    CHECK(took < 1s);
  }
  // The slow ones are closed by the daemon once the read timeout has passed.
  for (auto& c : slow) CHECK(c.ClosedWithin(5s));
  agent.ExpectRecovered();
}

TEST_CASE("Path traversal in secret and resource names reaches nothing") {
  TempDir rp_dir;
  RelyingParty rp(rp_dir);
  RunningAgent agent("", &rp);
  // The control: root may read app-key, by name and by its relying-party path.
  CHECK(ExchangeUnix(agent.socket, Get("/v1/secrets/app-key")).body == kSecret);
  CHECK(ExchangeUnix(agent.socket, Get("/cdh/resource/default/key/app")).body == kSecret);
  const std::vector<std::string> targets = {
      "/v1/secrets/../x",
      "/v1/secrets/../secrets/app-key",
      "/v1/secrets/./app-key",
      "/v1/secrets/%2e%2e/app-key",
      "/v1/secrets/..%2fapp-key",
      "/v1/secrets/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      "/v1/secrets/app-key/../app-key",
      "/v1/secrets/app-key%00",
      "/v1/secrets/\xff\xfe",
      "/v1/secrets//app-key",
      "/cdh/resource/../../etc/passwd",
      "/cdh/resource/%2e%2e/%2e%2e/etc/passwd",
      "/cdh/resource/..%2f..%2fetc%2fpasswd",
      "/cdh/resource/default/key/../key/app",
      "/cdh/resource/default/key/app/../../../../etc/passwd",
      "/cdh/resource/default/key/app%2f..%2f..",
      "/cdh/resource/default%2fkey%2fapp",
      "/../../etc/passwd",
  };
  for (const auto& target : targets) {
    INFO(target);
    RawResponse r = ExchangeUnix(agent.socket, Get(target));
    CHECK(r.status == 404);
    CHECK(r.body.find(kSecret) == std::string::npos);
    CHECK(r.body.find("root:") == std::string::npos);
  }
  CHECK(agent.process->Log().find(kSecret) == std::string::npos);
  agent.ExpectRecovered();
}

// Runs `targets` as uid/gid 65534 (nobody) in a forked child; "STATUS BODY-HAS-SECRET" lines.
std::string AsNobody(const std::string& socket, const std::vector<std::string>& targets) {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) {
      ::_exit(10);
    }
    std::string out;
    for (const auto& t : targets) {
      RawResponse r = ExchangeUnix(socket, Get(t));
      out += std::to_string(r.status) + " " +
             (r.body.find(kSecret) != std::string::npos ? "leaked" : "clean") + "\n";
    }
    ssize_t n = ::write(pipe_fds[1], out.data(), out.size());
    ::_exit(n == static_cast<ssize_t>(out.size()) ? 0 : 11);
  }
  ::close(pipe_fds[1]);
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  return out;
}

TEST_CASE("A caller whose uid the ACL does not list gets 403 and no secret") {
  TempDir rp_dir;
  RelyingParty rp(rp_dir);
  RunningAgent agent("", &rp);
  // The socket is 0666; the directories on the way to it must let uid 65534 through.
  REQUIRE(::chmod(agent.dir.path().c_str(), 0711) == 0);
  REQUIRE(::chmod(agent.dir.File("run").c_str(), 0711) == 0);
  std::string lines =
      AsNobody(agent.socket, {"/v1/secrets/app-key", "/cdh/resource/default/key/app",
                              "/aa/token?token_type=kbs", "/v1/status"});
  CHECK(lines == "403 clean\n403 clean\n403 clean\n200 clean\n");
  // Root, which the ACL lists, still reads it; the refusals are logged without the secret.
  CHECK(ExchangeUnix(agent.socket, Get("/v1/secrets/app-key")).body == kSecret);
  std::string log = agent.process->Log();
  CHECK(log.find("refused resource 'app-key' to uid 65534") != std::string::npos);
  CHECK(log.find(kSecret) == std::string::npos);
  agent.ExpectRecovered();
}

}  // namespace
}  // namespace cvm::agent
