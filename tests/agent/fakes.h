// Fakes of the daemon's seams: the relying-party exchange, the evidence source, the clock's
// sleeps and sd_notify.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/attester.h"
#include "agent/boot.h"
#include "common/clock.h"

namespace cvm::agent::testing {

// Answers each Attest call with `script(rp_url, call_number)`; records the calls. When the
// script returns OK, the outcome carries `secret_of(path)` for every path asked for.
class FakeAttester final : public Attester {
 public:
  using Script = std::function<Status(const std::string& url, int call)>;
  explicit FakeAttester(Script script) : script_(std::move(script)) {}
  Result<AttestOutcome> Attest(const RelyingPartyConfig& rp,
                               const std::vector<std::string>& resource_paths,
                               TimePoint deadline) override;
  std::vector<std::string> calls;  // the URLs, in call order
  // When set, each successful outcome's token_expiry.
  std::function<std::optional<TimePoint>()> token_expiry;
  std::vector<TimePoint> deadlines;
  // The secret the relying party releases for a path.
  static std::string SecretOf(const std::string& path) { return "secret-of:" + path; }

 private:
  Script script_;
};

// Returns a bundle-shaped JSON text recording what it was asked to bind.
class FakeEvidence final : public EvidenceSource {
 public:
  Result<std::string> Collect(const EvidenceRequest& request) override;
  std::mutex mu;
  std::vector<EvidenceRequest> requests;
};

// Advances a FixedClock by each wait instead of sleeping.
class FakeSleeper final : public Sleeper {
 public:
  explicit FakeSleeper(FixedClock& clock) : clock_(clock) {}
  bool Wait(std::chrono::milliseconds d) override;
  void Wake() override {}
  std::vector<std::chrono::milliseconds> waits;

 private:
  FixedClock& clock_;
};

class RecordingNotifier final : public Notifier {
 public:
  void Notify(const std::string& message) override {
    std::lock_guard<std::mutex> lock(mu);
    messages.push_back(message);
  }
  bool Saw(const std::string& prefix) {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& m : messages) {
      if (m.rfind(prefix, 0) == 0) return true;
    }
    return false;
  }
  std::mutex mu;
  std::vector<std::string> messages;
};

}  // namespace cvm::agent::testing
