// LUKS2 image files for integration tests, and cryptsetup run with the build's token plugin.
//
// libcryptsetup loads token plugins only from its compiled-in directory, so OpenWithToken runs
// cryptsetup in a private mount namespace (unshare -m, propagation private) in which the build's
// plugin folder is bind-mounted over that directory; the real directory is never touched.
// No device-mapper is needed: `cryptsetup open --test-passphrase` only checks the key.
#pragma once

#include <memory>
#include <string>

#include "tests/agent/child_process.h"
#include "tests/testing/testing.h"

namespace cvm::luks::testing {

using ::cvm::testing::ProcessResult;
using ::cvm::testing::TempDir;

// A PBKDF that costs milliseconds, for every keyslot the tests add.
inline constexpr char kTestIterations[] = "1000";

// Writes `text` to `path` (mode 0600); fails the test on error.
void WriteText(const std::string& path, const std::string& text);

// A fresh 20 MiB LUKS2 image at dir/NAME whose keyslot 0 opens with the contents of
// `passphrase_file`; returns its path.
std::string FormatImage(const TempDir& dir, const std::string& name,
                        const std::string& passphrase_file);
// The image's LUKS UUID.
std::string ImageUuid(const std::string& image);
// Runs cryptsetup with `args` (no plugin); fails the test when it does not exit 0.
ProcessResult Cryptsetup(const std::vector<std::string>& args);
// Rewrites both copies of the LUKS2 header so that segment 0 uses cipher_null-ecb (same length
// as aes-xts-plain64), with valid checksums: what a host that swaps the header would do.
void SwitchSegmentToCipherNull(const std::string& image);

// `cryptsetup open --test-passphrase --token-only IMAGE` with the build's plugin, asking the
// agent at `agent_socket`.
ProcessResult OpenWithToken(const std::string& image, const std::string& agent_socket);
// The same for any cryptsetup/cvmctl command line run inside the namespace.
ProcessResult RunWithPlugin(const std::vector<std::string>& argv, const std::string& agent_socket);

// cvm-agentd on the simulated SNP platform in `dir` (see tests/agent/rp_process.h), with one
// resource "disk-key" (cvm-rp's default/key/app) that POST /v1/luks/key serves to the volume
// `uuid`, or the resource AgentOptions describe. Its API socket is socket().
struct AgentOptions {
  std::string rp_url;
  std::string uuid;  // the volume the resource's key is for
  std::string deadline = "30s";
  // A name for this VM's files (dir/NAME.yaml, dir/NAME/...); "" : dir/agent.yaml, dir/run/...
  std::string name;
  std::string resource = "disk-key";
  std::string path = "default/key/app";  // e.g. "{vm_id}/luks/data" for a per-VM key
  std::string measurement;               // the simulated launch measurement; "" : zeros
};

class Agent {
 public:
  Agent(const TempDir& dir, const std::string& rp_url, const std::string& uuid,
        const std::string& deadline = "30s");
  Agent(const TempDir& dir, const AgentOptions& options);
  std::string socket() const { return socket_; }
  std::string Log() const { return process_->Log(); }
  // Waits until the daemon reports ready (true) or 30 s pass; `last` gets its last answer.
  bool WaitReady(std::string* last);

 private:
  std::unique_ptr<::cvm::agent::testing::ChildProcess> process_;
  std::string socket_;
};

}  // namespace cvm::luks::testing
