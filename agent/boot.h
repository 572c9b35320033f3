// The boot flow: attest, deliver, report ready, then keep the secrets fresh.
//
// RunBoot():
//   1. For each attempt, the relying parties are tried in configured order (failover); each gets
//      the time left until the overall deadline (timeouts.deadline from the start).
//   2. When all fail, the flow waits backoff = min(initial * 2^(attempt-1), max) scaled by a
//      random factor in [1 - jitter, 1 + jitter], saying in STATUS= what it waits for; a wait that
//      would end past the deadline is not started: the deadline error is returned instead.
//   3. On success every resource is delivered (files first, all or nothing; then the in-memory
//      store that the key sockets and the API serve), READY=1 is sent, and the phase timings
//      (attestation steps, delivery) are recorded.
//   Nothing is written before an exchange has succeeded, so a deadline leaves nothing behind.
// RunForever(): after boot, re-attests `refresh.before_expiry` before the token expires (or
//   half-way through the token's life, if that is later: a token that lives no longer than
//   before_expiry must not be refreshed in a loop), every
//   `refresh.interval`, and on RequestAttest(); a failed refresh retries with backoff (no
//   deadline) while the secrets of the last success stay served.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>

#include "agent/attester.h"
#include "agent/config.h"
#include "agent/sinks.h"
#include "agent/state.h"
#include "common/clock.h"

namespace cvm::agent {

// sd_notify(3) messages ("READY=1", "STATUS=...", "WATCHDOG=1").
class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual void Notify(const std::string& message) = 0;
};
// sd_notify through libsystemd; a no-op when $NOTIFY_SOCKET is unset.
Notifier& SystemdNotifier();

// Interruptible waiting. Wait returns early (true) when woken; false when the time passed.
class Sleeper {
 public:
  virtual ~Sleeper() = default;
  virtual bool Wait(std::chrono::milliseconds duration) = 0;
  virtual void Wake() = 0;
};
// A real sleeper on a condition variable (steady clock).
class CondSleeper final : public Sleeper {
 public:
  bool Wait(std::chrono::milliseconds duration) override;
  void Wake() override;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;  // guarded by mu_
};

struct BootDeps {
  const Config* config = nullptr;
  Attester* attester = nullptr;
  SecretStore* secrets = nullptr;
  AgentState* state = nullptr;
  Metrics* metrics = nullptr;
  Notifier* notifier = nullptr;
  const Clock* clock = nullptr;
  Sleeper* sleeper = nullptr;
  // Uniform in [0, 1); used for jitter.
  std::function<double()> random;
};

class BootFlow {
 public:
  // Every member of `deps` must be set and outlive the flow.
  explicit BootFlow(BootDeps deps);

  // The first attestation and delivery (see above). OK when every resource was delivered (or
  // there are none); kDeadlineExceeded naming the last reasons when the deadline passed; the
  // delivery error when a sink failed (nothing partial left behind).
  Status RunBoot();
  // Serves refreshes until Stop(). REQUIRES: RunBoot() succeeded.
  void RunForever();
  // Asks for a re-attestation now (POST /v1/attest). Thread-safe.
  void RequestAttest();
  // Makes RunForever return. Thread-safe.
  void Stop();
  // The relying party's current attestation token ("" before the first success). Thread-safe.
  std::string token() const;

  struct ProvisionResult {
    bool created = false;       // false: the relying party already held this VM's value
    std::string relying_party;  // the one that answered
  };
  // Creates (or finds) this VM's value of the per-VM resource `name` at the relying parties,
  // tried in order within timeouts.deadline, and delivers it as a boot delivery does (file
  // sinks, then the store the API and key sockets serve). kNotFound: no such resource;
  // kInvalidInput: not a per-VM resource; otherwise the last relying party's error.
  // Thread-safe: the attester is used by one caller at a time.
  Result<ProvisionResult> Provision(const std::string& name);

  // The backoff before retry number `attempt` (1-based), with `random` in [0, 1).
  static std::chrono::milliseconds Backoff(const TimeoutsConfig& t, int attempt, double random);

 private:
  // One round over the relying parties. Failure: the reasons of every relying party.
  Result<AttestOutcome> AttemptAll(TimePoint deadline, std::vector<std::string>* reasons,
                                   std::string* used);
  // Attests with retries until success, `deadline` (if any) or Stop().
  Result<AttestOutcome> AttestWithRetries(std::optional<TimePoint> deadline, bool refresh);
  Status Deliver(AttestOutcome& outcome, bool first);
  void Status_(AgentPhase phase, const std::string& waiting_for);

  BootDeps d_;
  std::vector<std::string> paths_;
  std::optional<TimePoint> token_expiry_;
  TimePoint token_issued_{};  // when the current token was delivered
  mutable std::mutex token_mu_;
  std::string token_;       // guarded by token_mu_
  std::mutex attester_mu_;  // the attester is thread-compatible: one exchange at a time
  std::mutex deliver_mu_;   // Deliver and Provision's delivery
  std::atomic<bool> stop_{false};
  std::atomic<bool> attest_requested_{false};
};

}  // namespace cvm::agent
