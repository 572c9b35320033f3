// What the daemon knows about itself, shared between the boot flow (writer) and the API
// (readers): attestation state, last result with reasons, per-resource delivery, phase timings,
// and the Prometheus metrics. Thread-safe; nothing here holds secret material.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/config.h"
#include "agent/platform.h"
#include "common/clock.h"

namespace cvm::agent {

enum class AgentPhase {
  kStarting,    // before the first attempt
  kAttesting,   // an exchange is running
  kWaiting,     // waiting to retry (backoff)
  kReady,       // every resource delivered
  kRefreshing,  // ready, and re-attesting (secrets from the last success still served)
  kFailed,      // the boot deadline passed; nothing was delivered
};
const char* AgentPhaseName(AgentPhase phase);

// kNotProvisioned: a per-VM resource the relying party holds no value for yet (`cvmctl luks
// provision` creates it).
enum class DeliveryState { kPending, kDelivered, kFailed, kNotProvisioned };

struct ResourceStatus {
  DeliveryState state = DeliveryState::kPending;
  std::optional<TimePoint> delivered_at;
  uint64_t deliveries = 0;
  std::string error;  // last delivery error
};

struct AttestationResult {
  bool ok = false;
  TimePoint at;
  std::string relying_party;         // the one that answered (ok) or was tried last
  std::vector<std::string> reasons;  // every relying party's error on failure
  int attempts = 0;
  std::optional<TimePoint> token_expiry;
};

class AgentState {
 public:
  AgentState(const Config& config, Platform platform, TimePoint started);

  void SetPhase(AgentPhase phase, std::string waiting_for);
  AgentPhase phase() const;
  void SetRelyingParty(std::string url);
  void SetResult(AttestationResult result);
  std::optional<AttestationResult> last_result() const;
  // Replaces the phase timings of the last attestation (name -> microseconds, in order).
  void SetPhaseTimings(std::vector<std::pair<std::string, std::chrono::microseconds>> timings);
  void SetResourceDelivered(const std::string& name, TimePoint at);
  void SetResourceFailed(const std::string& name, std::string error);
  void SetResourceNotProvisioned(const std::string& name);
  std::map<std::string, ResourceStatus> resources() const;

  const Platform& platform() const { return platform_; }
  // The /v1/status document (docs/api.md).
  nlohmann::json StatusJson(TimePoint now) const;

 private:
  const Config& config_;
  const Platform platform_;
  const TimePoint started_;
  mutable std::mutex mu_;
  AgentPhase phase_ = AgentPhase::kStarting;                                // guarded by mu_
  std::string waiting_for_;                                                 // guarded by mu_
  std::string relying_party_;                                               // guarded by mu_
  std::optional<AttestationResult> last_;                                   // guarded by mu_
  std::vector<std::pair<std::string, std::chrono::microseconds>> timings_;  // guarded by mu_
  std::map<std::string, ResourceStatus> resources_;                         // guarded by mu_
};

// Prometheus text exposition (version 0.0.4) of the daemon's counters. Thread-safe.
class Metrics {
 public:
  // result: "ok", "rejected", "unavailable", "invalid", "deadline", "error".
  void CountAttestation(const std::string& result, std::chrono::microseconds latency);
  void CountSecretRefresh(const std::string& resource);
  void CountRequest(const std::string& path, int code);
  std::string Render() const;

  static constexpr double kLatencyBuckets[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

 private:
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> attestations_;              // guarded by mu_
  uint64_t latency_counts_[std::size(kLatencyBuckets)] = {};  // guarded by mu_
  uint64_t latency_count_ = 0;                                // guarded by mu_
  double latency_sum_ = 0;                                    // guarded by mu_
  std::map<std::string, uint64_t> refreshes_;                 // guarded by mu_
  std::map<std::pair<std::string, int>, uint64_t> requests_;  // guarded by mu_
};

}  // namespace cvm::agent
