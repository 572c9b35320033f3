// The two seams between the daemon and the evidence library. The daemon (boot flow, API, sinks)
// is written and tested against these; production implements them as thin adapters over
// evidence::KbsClient and evidence::Collect (issue #9), tests with fakes.
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/config.h"
#include "common/clock.h"
#include "common/file_util.h"
#include "common/status.h"

namespace cvm::agent {

// What one successful relying-party exchange returns.
struct AttestOutcome {
  // Resource path ("repo/type/tag") -> plaintext, one entry for every path asked for except the
  // per-VM ones ("{vm_id}/type/tag") listed in not_provisioned.
  std::map<std::string, SecretBytes> resources;
  // Per-VM paths the relying party holds no value for yet (this VM was never provisioned).
  std::vector<std::string> not_provisioned;
  // The relying party's attestation token (EAR JWT); a credential: never logged.
  std::string token;
  // When the token expires ("exp"); nullopt when the relying party did not say.
  std::optional<TimePoint> token_expiry;
  // Time spent per step inside the exchange ("evidence", "tpm", "network", ...), in order.
  std::vector<std::pair<std::string, std::chrono::microseconds>> phases;
};

// Runs the whole relying-party exchange (KBS auth, evidence, attest, one resource GET per path)
// against one relying party. Implementations must honour `deadline` (give up by then with
// kDeadlineExceeded) and must not log resource contents or the token.
// Errors: kUnavailable / kDeadlineExceeded when the relying party could not be reached or did
// not answer in time; kRejected when it refused the evidence (the message carries its reasons,
// e.g. "PolicyDeny: ..."); kInvalidInput when it answered something malformed (garbage, a 500
// without a KBS error body). Every error is retried by the boot flow; kRejected too, since a
// relying party's policy may be updated while the VM waits.
// Thread-compatible: the daemon calls it from one thread at a time.
class Attester {
 public:
  virtual ~Attester() = default;
  virtual Result<AttestOutcome> Attest(const RelyingPartyConfig& rp,
                                       const std::vector<std::string>& resource_paths,
                                       TimePoint deadline) = 0;

  struct Provisioned {
    SecretBytes secret;
    bool created = false;  // false: the relying party already held a value for this VM
  };
  // Attests and asks the relying party to create this VM's value of the per-VM resource `path`
  // ("{vm_id}/type/tag") unless it holds one, and returns it. Same errors and deadline as
  // Attest. Default: kUnsupported (an attester without per-VM resources).
  virtual Result<Provisioned> Provision(const RelyingPartyConfig& rp, const std::string& path,
                                        TimePoint deadline) {
    (void)rp;
    (void)path;
    (void)deadline;
    return Unsupported("this attester cannot provision per-VM resources");
  }
};

// What the caller of the local evidence API asked to be bound.
struct EvidenceRequest {
  // Binding by runtime data (bundle.h): REPORT_DATA = H(JCS(runtime_data)), zero-padded.
  // The agent sets {"nonce": <caller's nonce string>}.
  std::optional<nlohmann::json> runtime_data;
  // Raw mode: REPORT_DATA is exactly these 64 bytes (no runtime data).
  std::optional<std::array<uint8_t, 64>> report_data;
};

// Produces a fresh evidence bundle (the JSON text of evidence::Bundle) for the platform the
// daemon runs on. Exactly one of the request's members is set. Errors: kUnavailable when the
// TEE or TPM cannot answer now; kInvalidInput for a request it cannot bind.
// Thread-safe: the API calls it from several threads; implementations serialise the hardware
// calls that the kernel requires to be serialised.
class EvidenceSource {
 public:
  virtual ~EvidenceSource() = default;
  virtual Result<std::string> Collect(const EvidenceRequest& request) = 0;
};

}  // namespace cvm::agent
