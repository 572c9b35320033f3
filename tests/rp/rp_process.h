// The real `cvm-rp` binary for integration tests: one process per test on free loopback ports
// (HTTP and HTTPS) in its own directory, stopped when the test ends (also on failure), with the
// simulators' state made once per day and build tree (`cvmctl sim init`) and evidence built
// with the evidence library as a guest would, with hooks for a test to misbehave.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "evidence/collect.h"
#include "tests/rp/http_client.h"
#include "tests/testing/testing.h"

namespace cvm::rp::testing {

inline constexpr char kSecret[] = "released only to attested guests";
inline constexpr char kResource[] = "default/key/demo";
// The simulators' launch measurement (snp::SimReportRequest default: zeros).
extern const std::string kSimMeasurement;
extern const std::string kOtherMeasurement;

std::string Cvmctl();
std::string CvmRp();

// BinaryDir()/tests/rp/sims-YYYYMMDD/{sim-snp,sim-tdx}: built in a private directory and
// renamed into place, so concurrent test processes never see half a state.
struct Sims {
  std::string root;
  std::string snp = root + "/sim-snp";
  std::string tdx = root + "/sim-tdx";
  std::string tdx_collateral = root + "/sim-tdx/collateral.json";
};
const Sims& GetSims();

// A loopback port nobody listens on right now.
uint16_t FreePort();
// Whether something accepts TCP connections on 127.0.0.1:port.
bool Accepts(uint16_t port);
// A file's text ("" when unreadable).
std::string TextOf(const std::string& file);

// The policy of these tests: simulated roots allowed, the simulators' SNP measurement.
std::string Policy(const std::string& measurement = kSimMeasurement);

// A cvm-rp process with one HTTP and one HTTPS listener on free loopback ports, in its own
// directory (configuration, TLS certificate, token key, audit log, its stderr in rp.log).
// The destructor stops it: SIGTERM, then SIGKILL after 10 s.
class RpProcess {
 public:
  // A configuration written here from `policy`, with `extra_config` (top-level YAML keys such
  // as "limits: {...}" or "session_timeout: 1s") appended.
  explicit RpProcess(const std::string& policy = Policy(), const std::string& extra_config = "");
  // Serves an existing configuration file (its single listener must be HTTP on `port`).
  RpProcess(const std::string& config_file, uint16_t port);
  ~RpProcess() { Stop(); }
  RpProcess(const RpProcess&) = delete;
  RpProcess& operator=(const RpProcess&) = delete;

  // Stops the process; its exit code (-1 when it had to be killed or died of a signal).
  int Stop();

  pid_t pid() const { return pid_; }
  const std::string& http_base() const { return http_base_; }
  const std::string& https_base() const { return https_base_; }
  const std::string& ca_file() const { return ca_file_; }
  std::string Log() const { return TextOf(log_file_); }
  // The audit records, oldest first (the configuration's audit.log next to it).
  std::vector<nlohmann::json> Audit() const;
  nlohmann::json LastAudit(const std::string& event) const;
  // Whether any audit record released a resource.
  bool AnyResourceReleased() const;

 private:
  void Start(const std::string& config_file, const std::vector<uint16_t>& ports);

  ::cvm::testing::TempDir dir_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
  std::string http_base_, https_base_, ca_file_, log_file_, audit_file_;
};

// Audit record and error body accessors.
bool HasReason(const nlohmann::json& record, const std::string& fragment);
// A string member ("" when absent or not an object).
std::string Field(const nlohmann::json& object, const std::string& name);
int StatusOf(const nlohmann::json& record);
std::string ReasonsOf(const nlohmann::json& record);

// Evidence for a session built with the evidence library, as a guest would, with hooks for a
// test to misbehave: `tweak` changes the collection request, `corrupt` the primary evidence.
struct Attempt {
  std::function<void(evidence::CollectRequest&)> tweak;
  std::function<void(nlohmann::json&)> corrupt;
  std::string kind = "sim-snp";
  // NVML for the GPU evidence (with `tweak` setting request.gpus); nullptr: none.
  gpu::GpuProvider* gpu = nullptr;
};
// The body of POST /kbs/v0/attest for `nonce`, presenting `jwk` (fails the test when the
// simulator cannot produce it).
std::string SimAttestBody(const std::string& nonce, const nlohmann::json& jwk,
                          const Attempt& attempt = {});

// Asserts the refusal of an attestation: 401 AttestationError, a deny audit line carrying
// `reason`, and the session gets nothing.
void ExpectAttestRefused(RpProcess& rp, KbsClient& client, const Reply& reply,
                         const std::string& reason);

// cvmctl kbs get-resource against `base`, returning the process result.
::cvm::testing::ProcessResult GetResource(const std::string& base, const std::string& tee,
                                          const std::string& sim,
                                          const std::vector<std::string>& extra = {});

}  // namespace cvm::rp::testing
