#include "tests/luks/luks_fixture.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/digest.h"
#include "common/file_util.h"
#include "common/http.h"
#include "luks/device.h"

namespace cvm::luks::testing {

using namespace std::chrono_literals;

namespace {

constexpr char kCryptsetup[] = "/usr/sbin/cryptsetup";

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

void WriteText(const std::string& path, const std::string& text) {
  REQUIRE(WriteFileAtomic(path, text, 0600).ok());
}

ProcessResult Cryptsetup(const std::vector<std::string>& args) {
  std::vector<std::string> argv{kCryptsetup};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = ::cvm::testing::Run(argv);
  INFO("cryptsetup stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return r;
}

std::string FormatImage(const TempDir& dir, const std::string& name,
                        const std::string& passphrase_file) {
  std::string image = dir.File(name);
  REQUIRE(::cvm::testing::Run({"/usr/bin/truncate", "-s", "20M", image}).exit_code == 0);
  Cryptsetup({"luksFormat", "--batch-mode", "--type", "luks2", "--pbkdf", "pbkdf2",
              "--pbkdf-force-iterations", kTestIterations, "--key-file", passphrase_file, image});
  return image;
}

std::string ImageUuid(const std::string& image) {
  std::string out = Cryptsetup({"luksUUID", image}).out;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

void SwitchSegmentToCipherNull(const std::string& image) {
  auto bytes = ReadFile(image, 64 << 20);
  REQUIRE(bytes.ok());
  Bytes& b = *bytes;
  // LUKS2 on-disk format: the binary header's big-endian hdr_size at offset 8, the checksum
  // (SHA-256, zero-padded to 64 bytes) at offset 448, computed over hdr_size bytes (binary
  // header and JSON area) with the checksum field zeroed. The second copy starts at hdr_size.
  uint64_t hdr_size = 0;
  for (int i = 0; i < 8; ++i) hdr_size = hdr_size << 8 | b[8 + i];
  REQUIRE(hdr_size >= 4096);
  REQUIRE(hdr_size * 2 <= b.size());
  const std::string from = "\"encryption\":\"aes-xts-plain64\"";
  const std::string to = "\"encryption\":\"cipher_null-ecb\"";
  for (uint64_t base : {uint64_t{0}, hdr_size}) {
    std::string area(reinterpret_cast<const char*>(b.data() + base), hdr_size);
    size_t seg = area.find("\"segments\"");
    REQUIRE(seg != std::string::npos);
    size_t at = area.find(from, seg);
    REQUIRE(at != std::string::npos);
    std::copy(to.begin(), to.end(), b.begin() + static_cast<long>(base + at));
    std::fill(b.begin() + static_cast<long>(base + 448), b.begin() + static_cast<long>(base + 512),
              0);
    Bytes sum = Sha256(ByteSpan(b.data() + base, hdr_size));
    std::copy(sum.begin(), sum.end(), b.begin() + static_cast<long>(base + 448));
  }
  REQUIRE(WriteFileAtomic(image, b, 0600).ok());
}

ProcessResult RunWithPlugin(const std::vector<std::string>& argv, const std::string& agent_socket) {
  const std::string token_dir = ExternalTokenDir();
  REQUIRE_FALSE(token_dir.empty());
  std::string env = "CVM_AGENT_SOCKET=" + Quote(agent_socket);
#ifdef CVM_SANITIZER_PRELOAD
  // The plugin is built with ASan: its runtime must be the first library of the process.
  env += " LD_PRELOAD=" + Quote(CVM_SANITIZER_PRELOAD) +
         " ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0";
#endif
  std::string script = "mount --bind ";
  script += Quote(CVM_TOKEN_PLUGIN_DIR);
  script += ' ';
  script += Quote(token_dir);
  script += " && exec env ";
  script += env;
  for (const auto& a : argv) {
    script += ' ';
    script += Quote(a);
  }
  return ::cvm::testing::Run(
      {"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script});
}

ProcessResult OpenWithToken(const std::string& image, const std::string& agent_socket) {
  return RunWithPlugin({kCryptsetup, "open", "--test-passphrase", "--token-only", image},
                       agent_socket);
}

Agent::Agent(const TempDir& dir, const std::string& rp_url, const std::string& uuid,
             const std::string& deadline)
    : Agent(dir, [&] {
        AgentOptions o;
        o.rp_url = rp_url;
        o.uuid = uuid;
        o.deadline = deadline;
        return o;
      }()) {}

Agent::Agent(const TempDir& dir, const AgentOptions& o) {
  std::string run = o.name.empty() ? dir.File("run") : dir.File(o.name);
  std::string config_file = dir.File((o.name.empty() ? "agent" : o.name) + ".yaml");
  socket_ = run + "/api.sock";
  std::string config = "tee: sim-snp\nsim: {state_dir: " + dir.File("sim") +
                       (o.measurement.empty() ? "" : ", measurement: \"" + o.measurement + "\"") +
                       "}\nrelying_parties:\n  - url: " + o.rp_url +
                       "\n    token_key: " + dir.File("token.pub") +
                       "\ntimeouts: {connect: 2s, request: 5s, deadline: " + o.deadline +
                       ", backoff_initial: 200ms, backoff_max: 1s}\n"
                       // cvm-rp's tokens live 5 minutes, as long as the default before_expiry:
                       // without this the daemon would re-attest at once, again and again.
                       "refresh: {before_expiry: 30s}\n"
                       "resources:\n  - name: " +
                       o.resource + "\n    path: \"" + o.path + "\"\n    sinks:\n" +
                       "      cryptsetup: {volume: data, uuid: " + o.uuid +
                       "}\napi: {socket: " + socket_ + "}\npaths: {secrets_dir: " + run +
                       "/secrets, cryptsetup_socket: " + run + "/cryptsetup.sock}\n";
  WriteText(config_file, config);
  process_ = std::make_unique<::cvm::agent::testing::ChildProcess>(
      std::vector<std::string>{::cvm::testing::BinaryDir() + "/agent/cvm-agentd", "--config",
                               config_file},
      o.name.empty() ? dir.File("agent.log") : dir.File(o.name + ".log"));
}

bool Agent::WaitReady(std::string* last) {
  auto http = NewCurlHttpClient();
  HttpRequest req;
  req.url = "http://localhost/v1/status";
  req.unix_socket = socket_;
  req.timeout = 5s;
  auto end = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < end) {
    auto resp = http->Send(req);
    *last = resp.ok() ? std::string(AsChars(resp->body)) : resp.status().ToString();
    if (resp.ok() && resp->status == 200) {
      auto j = nlohmann::json::parse(AsChars(resp->body), nullptr, false);
      if (j.is_object() && j["state"] == "ready") return true;
    }
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

}  // namespace cvm::luks::testing
