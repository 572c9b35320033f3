// Asks the running cvm-agentd for a volume's key over its local API (docs/api.md,
// POST /v1/luks/key). Used by the token plugin and by `cvmctl luks`.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "common/http.h"
#include "common/status.h"

namespace cvm::luks {

inline constexpr char kDefaultAgentSocket[] = "/run/cvm-agent/api.sock";
// The environment variable that overrides the socket path (tests, non-default layouts).
inline constexpr char kAgentSocketEnv[] = "CVM_AGENT_SOCKET";

struct VolumeKeyRequest {
  std::string socket = kDefaultAgentSocket;  // the agent's API socket
  std::string resource;                      // the agent's resource name
  std::string uuid;                          // the volume's UUID (from its header)
  std::vector<std::string> ciphers;          // the header's keyslot and segment ciphers
  // Overall wait: the agent may still be starting or attesting. Bounded by the caller.
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
  // Pause between attempts while the agent is unreachable or has no key yet.
  std::chrono::milliseconds retry_interval{250};
};

// The socket path: $CVM_AGENT_SOCKET when set (read with secure_getenv, so not in setuid
// programs), else kDefaultAgentSocket.
std::string AgentSocketPath();

// Asks until the agent answers with the key or refuses, or `timeout` passes:
// - 200: the key (its bytes exactly as the relying party released them);
// - 503 (attestation not finished yet), or no connection (agent not started yet): retried;
// - any other status: final, kPermissionDenied (403) / kNotFound (404) / kInvalidInput (400)
//   with the agent's message;
// - timeout: kDeadlineExceeded naming the last thing the agent said (or why it could not be
//   reached).
// The key is never logged; the response buffer becomes the SecretBytes without another copy.
Result<SecretBytes> FetchVolumeKey(HttpClient& http, const VolumeKeyRequest& request);

struct ProvisionAnswer {
  std::string uuid;           // the volume UUID the agent's configuration names for the resource
  bool created = false;       // false: the relying party already held this VM's key
  std::string relying_party;  // the one that answered
};

// Asks the agent to create (or find) this VM's key of the per-VM resource `resource` at the
// relying party (POST /v1/luks/provision; docs/api.md). The key itself is then fetched with
// FetchVolumeKey, through the same checks as at boot. While the agent cannot be reached it is
// retried until `timeout`; any answer is final: kPermissionDenied (403: not root, or the
// relying party refused), kNotFound (404), kInvalidInput (400), kUnavailable otherwise.
Result<ProvisionAnswer> ProvisionVolumeKey(HttpClient& http, const std::string& socket,
                                           const std::string& resource,
                                           std::chrono::milliseconds timeout);

}  // namespace cvm::luks
