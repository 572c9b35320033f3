// Runs the real cvm-agentd binary.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/file_util.h"
#include "common/http.h"
#include "snp/sim.h"
#include "tests/agent/agent_fixture.h"
#include "tests/testing/testing.h"

namespace cvm::agent {
namespace {

using cvm::testing::TempDir;

std::string Agentd() { return cvm::testing::BinaryDir() + "/agent/cvm-agentd"; }
std::string Helper() { return cvm::testing::BinaryDir() + "/agent/cvm-agent-http"; }

std::string WriteConfig(const TempDir& dir, const std::string& text) {
  std::string path = dir.File("config.yaml");
  REQUIRE(WriteFileAtomic(path, std::string_view(text)).ok());
  return path;
}

// A started cvm-agentd that is stopped (SIGTERM, then SIGKILL) when the test ends.
class Daemon {
 public:
  explicit Daemon(const std::string& config) {
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      std::string log = config + ".log";
      FILE* f = std::freopen(log.c_str(), "w", stderr);
      (void)f;
      ::execl(Agentd().c_str(), "cvm-agentd", "--config", config.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~Daemon() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  // Sends SIGTERM and returns the exit status (-1 when killed by a signal or not exited in 10 s).
  int Stop() {
    ::kill(pid_, SIGTERM);
    return Wait(std::chrono::seconds(10));
  }
  int Wait(std::chrono::seconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
};

TEST_CASE("cvm-agentd --check-config accepts a valid file") {
  TempDir dir;
  auto r = cvm::testing::Run(
      {Agentd(), "--check-config", WriteConfig(dir, "tee: snp\napi: {tcp_port: 8006}\n")});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find(": ok") != std::string::npos);
}

TEST_CASE("cvm-agentd --check-config exits 2 naming the line of an error") {
  TempDir dir;
  std::string path = WriteConfig(dir, "tee: snp\ntimeouts:\n  deadline: soon\n");
  auto r = cvm::testing::Run({Agentd(), "--check-config", path});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(path + ":3:13: timeouts.deadline:") != std::string::npos);
}

TEST_CASE("cvm-agentd refuses to start with a configuration error (exit 2)") {
  TempDir dir;
  auto r = cvm::testing::Run({Agentd(), "--config", WriteConfig(dir, "bogus: 1\n")});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("config.yaml:1:1: bogus: unknown key") != std::string::npos);
}

TEST_CASE("cvm-agentd exits 3 when the configured TEE is not there") {
  if (::access("/dev/sev-guest", F_OK) == 0 || ::access("/sys/kernel/config/tsm", F_OK) == 0) {
    WARN("this machine has SEV-SNP; skipped");
    return;
  }
  TempDir dir;
  std::string config = "tee: snp\napi: {socket: " + dir.File("api.sock") + "}\n";
  auto r = cvm::testing::Run({Agentd(), "--config", WriteConfig(dir, config)});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("the configured TEE 'snp' is not present") != std::string::npos);
}

TEST_CASE("cvm-agentd --version and --help work") {
  auto r = cvm::testing::Run({Agentd(), "--version"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("cvm-agentd ", 0) == 0);
  r = cvm::testing::Run({Agentd(), "--help"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("--check-config") != std::string::npos);
  CHECK(r.out.find("Exit status") != std::string::npos);
}

TEST_CASE("cvm-agentd loads none of the libraries only verification or libcurl needs") {
  // The agent collects evidence; the relying party verifies it. RIM verification (xmlsec1 on
  // libxml2, which brings ICU) must stay out of the daemon, and so must libcurl with its TLS,
  // Kerberos and LDAP libraries: its HTTP client is the cvm-agent-http process
  // (docs/performance.md).
  auto r = cvm::testing::Run({"/usr/bin/ldd", Agentd()});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("libcrypto.so") != std::string::npos);  // the listing is the real one
  for (const char* lib : {"libxmlsec1", "libxml2", "libxslt", "libicu", "libcurl", "libgnutls",
                          "libssl.so", "libkrb5", "libldap"}) {
    INFO(lib);
    CHECK(r.out.find(lib) == std::string::npos);
  }
  auto helper = cvm::testing::Run({"/usr/bin/ldd", Helper()});
  REQUIRE(helper.exit_code == 0);
  CHECK(helper.out.find("libcurl.so") != std::string::npos);
  for (const char* lib : {"libyaml-cpp", "libtss2", "libjose", "libsystemd"}) {
    INFO(lib);
    CHECK(helper.out.find(lib) == std::string::npos);
  }
#ifndef __SANITIZE_ADDRESS__
  // Builds without sanitizers: no shared C++ library in either (the top-level CMakeLists.txt).
  for (const char* lib : {"libstdc++", "libyaml-cpp", "libtomlplusplus"}) {
    INFO(lib);
    CHECK(r.out.find(lib) == std::string::npos);
    CHECK(helper.out.find(lib) == std::string::npos);
  }
#endif
}

TEST_CASE("cvm-agent-http exports the hook that skips GnuTLS's implicit initialisation") {
  // libgnutls finds _gnutls_global_init_skip only in the dynamic symbol table.
  auto r = cvm::testing::Run({"/usr/bin/nm", "-D", "--defined-only", Helper()});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find(" T _gnutls_global_init_skip\n") != std::string::npos);
}

TEST_CASE("cvm-agent-http run by hand says what it is and exits 2") {
  auto r = cvm::testing::Run({Helper()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("started by cvm-agentd") != std::string::npos);
}

TEST_CASE("cvm-agentd finds its HTTP helper where a package puts it, and exits 3 without it") {
  namespace fixture = cvm::agent::testing;
  TempDir dir;
  fixture::AgentSetup setup;
  setup.rp_url = "http://127.0.0.1:9";  // nobody listens: the boot gives up at its deadline
  setup.deadline = "1s";
  fixture::Write(dir.File("agent.yaml"), fixture::AgentConfig(dir, setup));
  // An unpacked package (as tests/vm/build-image.sh runs it on the host): usr/sbin/cvm-agentd,
  // and usr/lib/cvm-agent/cvm-agent-http once it is there.
  namespace fs = std::filesystem;
  fs::create_directories(dir.File("usr/sbin"));
  fs::create_directories(dir.File("usr/lib/cvm-agent"));
  fs::copy_file(Agentd(), dir.File("usr/sbin/cvm-agentd"));
  const std::vector<std::string> run = {dir.File("usr/sbin/cvm-agentd"), "--config",
                                        dir.File("agent.yaml")};
  auto alone = cvm::testing::Run(run);
  CHECK(alone.exit_code == 3);
  CHECK(alone.err.find("the HTTP helper cvm-agent-http is missing") != std::string::npos);
  fs::copy_file(Helper(), dir.File("usr/lib/cvm-agent/cvm-agent-http"));
  auto packaged = cvm::testing::Run(run);
  INFO(packaged.err);
  CHECK(packaged.exit_code == 1);  // the deadline passed: nothing delivered
  CHECK(packaged.err.find("missing") == std::string::npos);
  CHECK(packaged.err.find("127.0.0.1:9") != std::string::npos);
}

TEST_CASE("cvm-agentd spawns its HTTP helper before main only when it runs, and reaps it") {
  // The first helper is spawned from .preinit_array (agent/main.cc). A stand-in next to the
  // daemon records each start and lives until the daemon closes its socket, fd 3.
  TempDir dir;
  namespace fs = std::filesystem;
  fs::copy_file(Agentd(), dir.File("cvm-agentd"));
  const std::string spawned = dir.File("spawned");
  REQUIRE(WriteFileAtomic(dir.File("cvm-agent-http"),
                          std::string_view("#!/bin/sh\necho \"$$ $*\" >> " + spawned +
                                           "\nexec cat <&3 >/dev/null\n"))
              .ok());
  fs::permissions(dir.File("cvm-agent-http"), fs::perms::owner_all);
  const std::string agentd = dir.File("cvm-agentd");
  const std::string bad = WriteConfig(dir, "tee: sim-snp\nno_such_key: 1\n");
  for (const std::vector<std::string>& argv :
       std::vector<std::vector<std::string>>{{agentd, "--version"},
                                             {agentd, "--help"},
                                             {agentd, "--check-config", bad},
                                             {agentd, "--check-config=" + bad}}) {
    INFO(argv[1]);
    cvm::testing::Run(argv);
    CHECK_FALSE(fs::exists(spawned));
  }
  // A daemon that stops at its configuration had already spawned one; it ends and reaps it.
  auto r = cvm::testing::Run({agentd, "--config", bad});
  CHECK(r.exit_code == 2);
  auto bytes = ReadFile(spawned);
  REQUIRE(bytes.ok());
  const std::string lines(AsChars(*bytes));
  INFO(lines);
  int pid = 0;
  char args[64] = {};
  REQUIRE(std::sscanf(lines.c_str(), "%d %63[^\n]", &pid, args) == 2);
  CHECK(std::string(args) == "--keep-alive");
  CHECK(std::count(lines.begin(), lines.end(), '\n') == 1);
  CHECK(::kill(pid, 0) != 0);  // the daemon did not leave it running
}

TEST_CASE("The real daemon on a simulated TEE serves its API and stops cleanly") {
  TempDir dir;
  REQUIRE(snp::SimSnp::Create(snp::SimPlatform{}, dir.File("sim")).ok());
  std::string socket = dir.File("run/api.sock");
  std::string config =
      "tee: sim-snp\nsim: {state_dir: " + dir.File("sim") + "}\napi: {socket: " + socket + "}\n";
  std::string path = WriteConfig(dir, config);
  Daemon daemon(path);
  auto http = NewCurlHttpClient();
  HttpRequest req;
  req.url = "http://localhost/v1/status";
  req.unix_socket = socket;
  req.timeout = std::chrono::seconds(5);
  Result<HttpResponse> resp = Unavailable("not started");
  for (int i = 0; i < 200 && !(resp.ok() && resp->status == 200); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    resp = http->Send(req);
  }
  REQUIRE(resp.ok());
  REQUIRE(resp->status == 200);
  auto j = nlohmann::json::parse(AsChars(resp->body));
  CHECK(j["simulated"] == true);
  CHECK(j["tee"]["kind"] == "sim-snp");
  CHECK(j["state"] == "ready");
  // A fresh bundle from the simulated firmware that `cvmctl verify` accepts with the simulated
  // root, its runtime data carrying the caller's nonce.
  std::string cvmctl = cvm::testing::BinaryDir() + "/cli/cvmctl";
  std::string root = dir.File("sim/ark.pem");
  req.url = "http://localhost/v1/evidence?nonce=abcdefgh12";
  resp = http->Send(req);
  REQUIRE(resp.ok());
  REQUIRE(resp->status == 200);
  auto bundle = nlohmann::json::parse(AsChars(resp->body));
  CHECK(bundle["runtime-data"]["nonce"] == "abcdefgh12");
  REQUIRE(WriteFileAtomic(dir.File("bundle.json"), AsChars(resp->body)).ok());
  auto verified = cvm::testing::Run({cvmctl, "verify", dir.File("bundle.json"), "--root", root});
  INFO(verified.out << verified.err);
  CHECK(verified.exit_code == 0);
  // raw=1: REPORT_DATA is exactly the caller's 64 bytes, which `cvmctl verify --nonce` checks.
  std::string raw(128, '0');
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = "0123456789abcdef"[i % 16];
  req.url = "http://localhost/v1/evidence?raw=1&nonce=" + raw;
  resp = http->Send(req);
  REQUIRE(resp.ok());
  REQUIRE(resp->status == 200);
  REQUIRE(WriteFileAtomic(dir.File("raw.json"), AsChars(resp->body)).ok());
  verified =
      cvm::testing::Run({cvmctl, "verify", dir.File("raw.json"), "--root", root, "--nonce", raw});
  INFO(verified.out << verified.err);
  CHECK(verified.exit_code == 0);
  std::string other = raw;
  other[0] = 'f';
  verified =
      cvm::testing::Run({cvmctl, "verify", dir.File("raw.json"), "--root", root, "--nonce", other});
  CHECK(verified.exit_code == 1);
  // cvmctl's online verbs talk to it over the same socket.
  auto st = cvm::testing::Run({cvmctl, "status", "--socket", socket});
  CHECK(st.exit_code == 0);
  CHECK(st.out.find("sim-snp") != std::string::npos);
  CHECK(st.out.find("** SIMULATED **") != std::string::npos);
  CHECK(st.out.find("State:    ready") != std::string::npos);
  st = cvm::testing::Run({cvmctl, "status", "--json", "--socket", socket});
  CHECK(st.exit_code == 0);
  CHECK(nlohmann::json::parse(st.out)["simulated"] == true);
  st = cvm::testing::Run({cvmctl, "secrets", "list", "--socket", socket});
  CHECK(st.exit_code == 0);
  CHECK(st.out.rfind("NAME", 0) == 0);
  st = cvm::testing::Run({cvmctl, "attest", "--socket", socket});
  CHECK(st.exit_code == 2);  // 409: no resources configured
  CHECK(st.err.find("no resources are configured") != std::string::npos);
  CHECK(daemon.Stop() == 0);
  st = cvm::testing::Run({cvmctl, "status", "--socket", socket});
  CHECK(st.exit_code == 3);
  CHECK(st.err.find("cvm-agentd is not running") != std::string::npos);
  auto log = ReadTextFile(path + ".log");
  REQUIRE(log.ok());
  CHECK(log->find("SIMULATED TEE sim-snp") != std::string::npos);
  CHECK(::access(socket.c_str(), F_OK) != 0);  // the socket was removed
}

}  // namespace
}  // namespace cvm::agent
