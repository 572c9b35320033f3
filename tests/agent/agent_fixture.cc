#include "tests/agent/agent_fixture.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <sstream>
#include <thread>

#include "common/file_util.h"
#include "common/http.h"
#include "common/http_helper.h"
#include "common/keys.h"
#include "snp/sim.h"

namespace cvm::agent::testing {

using namespace std::chrono_literals;
using ::cvm::testing::TempDir;

const std::string kZeroMeasurement(96, '0');
const std::string kOtherMeasurement(96, '1');

std::string Binary(const std::string& relative) {
  return ::cvm::testing::BinaryDir() + "/" + relative;
}

HttpClientFactory HelperHttp() {
  HttpHelperOptions options;
  options.path = Binary("agent/cvm-agent-http");
  return [options] { return StartHttpHelper(options); };
}

void Write(const std::string& path, std::string_view text, mode_t mode) {
  REQUIRE(WriteFileAtomic(path, text, mode).ok());
}

const std::string& SharedSimSnp() {
  static const std::string dir = [] {
    namespace fs = std::filesystem;
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char day[16];
    std::strftime(day, sizeof(day), "%Y%m%d", &tm);
    std::string parent = ::cvm::testing::BinaryDir() + "/tests/agent";
    std::string root = parent + "/sim-snp-" + day;
    if (!fs::exists(root + "/ark.pem")) {
      std::error_code ec;
      fs::create_directories(parent, ec);
      std::string tmp = root + ".tmp." + std::to_string(::getpid());
      fs::remove_all(tmp, ec);
      auto sim = snp::SimSnp::Create(snp::SimPlatform{}, tmp);
      REQUIRE(sim.ok());
      fs::rename(tmp, root, ec);
      if (ec) fs::remove_all(tmp, ec);  // another test process got there first: use its state
    }
    REQUIRE(fs::exists(root + "/ark.pem"));
    return root;
  }();
  return dir;
}

RelyingParty::RelyingParty(const TempDir& dir, RpSetup setup) {
  auto key = GenerateEcKey(Curve::kP256);
  REQUIRE(key.ok());
  auto priv = PrivateKeyToPem(key->get());
  REQUIRE(priv.ok());
  Write(dir.File("token.key"), priv->chars(), 0600);
  auto pub = PublicKeyToPem(key->get());
  REQUIRE(pub.ok());
  token_key_ = dir.File("token.pub");
  Write(token_key_, *pub);
  Write(dir.File("policy.yaml"),
        "version: 1\ndefault:\n  tee: [snp]\n  allow_simulated: true\n"
        "  allow_debug: false\n  max_evidence_age: 5m\n"
        "  snp_measurements: [\"" +
            setup.measurement + "\"]\n" + setup.policy_extra);
  std::string resources;
  for (const auto& [path, value] : setup.resources) {
    resources += "    " + path + ": {value: \"" + value + "\"}\n";
  }
  std::string tls;
  if (setup.tls) {
    ca_file_ = dir.File("tls.crt");
    ::cvm::testing::WriteTlsFiles(ca_file_, dir.File("tls.key"));
    tls = ", tls: true}\ntls: {cert: tls.crt, key: tls.key";
  }
  audit_file_ = dir.File("audit.log");
  Write(dir.File("cvm-rp.yaml"), "listen:\n  - {address: 127.0.0.1, port: 0" + tls +
                                     "}\n"
                                     "token_key: token.key\npolicy: policy.yaml\n"
                                     "resources:\n  inline:\n" +
                                     resources +
                                     "session_timeout: 5m\nthreads: 2\naudit_log: audit.log\n"
                                     "diagnostic_header: true\n"
                                     "trust_anchors:\n  snp_roots: [" +
                                     SharedSimSnp() + "/ark.pem]\n" + setup.config_extra);
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{Binary("rp/cvm-rp"), "--config", dir.File("cvm-rp.yaml")},
      dir.File("cvm-rp.log"));
  const std::string scheme = setup.tls ? "https" : "http";
  const std::string marker = "serving the KBS protocol on " + scheme + "://127.0.0.1:";
  bool serving = process_->WaitForLog(marker, 20s);
  INFO("cvm-rp log:\n" << process_->Log());
  REQUIRE(serving);
  std::string log = process_->Log();
  size_t at = log.find(marker) + marker.size();
  url_ = scheme + "://127.0.0.1:" + log.substr(at, log.find('/', at) - at);
}

std::string RelyingParty::AuditText() const {
  auto text = ReadTextFile(audit_file_);
  return text.ok() ? *text : std::string();
}

std::string AgentConfig(const TempDir& dir, const AgentSetup& setup) {
  std::string yaml = "tee: sim-snp\nsim: {state_dir: " + SharedSimSnp() + "}\n";
  if (!setup.rp_url.empty()) {
    yaml += "relying_parties:\n  - url: " + setup.rp_url + "\n";
    if (!setup.rp_token_key.empty()) yaml += "    token_key: " + setup.rp_token_key + "\n";
    yaml += setup.rp_extra;
    yaml += "timeouts: {connect: 2s, request: 5s, deadline: " + setup.deadline +
            ", backoff_initial: 100ms, backoff_max: 500ms}\n";
    if (!setup.resources.empty()) {
      yaml += "resources:\n" + setup.resources;
    } else {
      yaml +=
          "resources:\n  - name: app-key\n    path: default/key/app\n    sinks:\n"
          "      file: {}\n";
      if (!setup.api_sink.empty()) yaml += "      api: " + setup.api_sink + "\n";
    }
  }
  yaml += "api: {socket: " + dir.File("run/api.sock") +
          (setup.api.empty() ? "" : ", " + setup.api) + "}\n";
  yaml += "paths: {secrets_dir: " + dir.File("secrets") + "}\n";
  yaml += setup.extra;
  return yaml;
}

std::unique_ptr<ChildProcess> StartAgent(const TempDir& dir, const AgentSetup& setup) {
  Write(dir.File("agent.yaml"), AgentConfig(dir, setup));
  return std::make_unique<ChildProcess>(
      std::vector<std::string>{Binary("agent/cvm-agentd"), "--config", dir.File("agent.yaml")},
      dir.File("agent.log"));
}

std::string WaitForApi(const std::string& socket, const std::string& path, int seconds,
                       const std::string& want) {
  auto http = NewCurlHttpClient();
  HttpRequest req;
  req.url = "http://localhost" + path;
  req.unix_socket = socket;
  req.timeout = 5s;
  std::string body;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end) {
    auto resp = http->Send(req);
    if (resp.ok()) {
      body.assign(AsChars(resp->body));
      if (resp->status == 200 && (want.empty() || body.find(want) != std::string::npos)) break;
    }
    std::this_thread::sleep_for(20ms);
  }
  return body;
}

uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  ::close(fd);
  REQUIRE(ok);
  return ntohs(a.sin_port);
}

int OpenFds(pid_t pid) {
  DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

long RssKib(pid_t pid) {
  auto text = ReadTextFile("/proc/" + std::to_string(pid) + "/status");
  if (!text.ok()) return -1;
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

}  // namespace cvm::agent::testing
