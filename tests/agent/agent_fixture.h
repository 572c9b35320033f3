// Integration fixtures for tests that run the real cvm-agentd and cvm-rp binaries on loopback in
// a temporary directory: a simulated SEV-SNP platform shared by the tests of one build tree, a
// relying party (cvm-rp) whose policy accepts a given measurement, the daemon's configuration,
// and what a test reads from a running process (/proc descriptors and resident set). Every
// process is a ChildProcess: killed and reaped when the test ends, also on failure.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/http.h"
#include "tests/agent/child_process.h"
#include "tests/testing/testing.h"

namespace cvm::agent::testing {

inline constexpr char kSecret[] = "integration secret released by cvm-rp";
// The simulator's launch measurement (zeros) and one the simulator never has.
extern const std::string kZeroMeasurement;
extern const std::string kOtherMeasurement;

// BinaryDir()/<relative>, e.g. "agent/cvm-agentd".
std::string Binary(const std::string& relative);
// The daemon's HTTP client as the daemon makes it: through the built helper process
// (agent/cvm-agent-http, common/http_helper.h).
HttpClientFactory HelperHttp();
// Writes `text` to `path` atomically (fails the test on error).
void Write(const std::string& path, std::string_view text, mode_t mode = 0644);

// A simulated SEV-SNP platform (the simulator's defaults), made once per day and build tree in
// BinaryDir()/tests/agent/sim-snp-YYYYMMDD (its RSA-4096 keys are slow under the sanitizers)
// and renamed into place so concurrent test processes never see half a state. Read-only.
const std::string& SharedSimSnp();

struct RpSetup {
  std::string measurement = kZeroMeasurement;  // the one the policy accepts
  bool tls = false;                            // HTTPS with a self-signed 127.0.0.1 certificate
  // Resource path -> value, inline in the relying party's configuration.
  std::vector<std::pair<std::string, std::string>> resources = {{"default/key/app", kSecret}};
  std::string policy_extra;  // more keys of the default rule, "  key: value\n" each
  std::string config_extra;  // more top-level configuration keys, "key: value\n" each
};

// A cvm-rp process in `dir` (token key, policy, configuration, audit log, its log in
// dir/cvm-rp.log) serving on a port the kernel picks; the shared simulator's ARK is its only SNP
// root. Fails the test when it does not start within 20 s.
class RelyingParty {
 public:
  RelyingParty(const ::cvm::testing::TempDir& dir, RpSetup setup = {});
  const std::string& url() const { return url_; }
  // The TLS certificate (tls only) and the token verification key the agent needs.
  const std::string& ca_file() const { return ca_file_; }
  const std::string& token_key() const { return token_key_; }
  std::string Log() const { return process_->Log(); }
  std::string AuditText() const;

 private:
  std::unique_ptr<ChildProcess> process_;
  std::string url_, ca_file_, token_key_, audit_file_;
};

struct AgentSetup {
  std::string rp_url;        // empty: no relying party and no resources (evidence API only)
  std::string rp_token_key;  // the relying party's token key (RelyingParty::token_key)
  std::string rp_extra;      // more keys of the relying party, "    key: value\n" each
  std::string deadline = "30s";
  // The resources list (YAML, each item starting "  - "); empty: one "app-key" for
  // default/key/app with a file sink (and `api_sink` when set).
  std::string resources;
  std::string api_sink;  // e.g. "{uids: [0]}": an api sink on the default resource
  std::string api = "";  // extra keys of the api section, e.g. "tcp_port: 0, read_timeout: 1s"
  std::string extra;     // more top-level keys, "key: value\n" each
};

// The daemon's configuration for `dir`: tee sim-snp with the shared simulator, the API socket at
// dir/run/api.sock, secrets under dir/secrets.
std::string AgentConfig(const ::cvm::testing::TempDir& dir, const AgentSetup& setup);

// cvm-agentd --config dir/agent.yaml (written from `setup`), its log in dir/agent.log.
std::unique_ptr<ChildProcess> StartAgent(const ::cvm::testing::TempDir& dir,
                                         const AgentSetup& setup);

// Polls GET `path` on the agent's unix socket until it answers 200 or `seconds` pass; the body
// of the last answer ("" when none). `want` non-empty: also waits until the body contains it.
std::string WaitForApi(const std::string& socket, const std::string& path, int seconds,
                       const std::string& want = "");

// A loopback TCP port nobody listens on right now.
uint16_t FreePort();

// The number of open descriptors of `pid` (/proc/PID/fd), -1 when unreadable.
int OpenFds(pid_t pid);
// The resident set of `pid` in KiB (/proc/PID/status VmRSS), -1 when unreadable.
long RssKib(pid_t pid);

}  // namespace cvm::agent::testing
