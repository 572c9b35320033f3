#include "agent/boot.h"

#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cmath>

#include "common/log.h"

namespace cvm::agent {

namespace {

class SdNotifier final : public Notifier {
 public:
  void Notify(const std::string& message) override { sd_notify(0, message.c_str()); }
};

std::string ResultName(const Status& s) {
  switch (s.code()) {
    case Code::kOk:
      return "ok";
    case Code::kRejected:
      return "rejected";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kInvalidInput:
      return "invalid";
    case Code::kDeadlineExceeded:
      return "deadline";
    default:
      return "error";
  }
}

// "unavailable: connection refused": the kind of failure first, so an operator can tell a
// relying party that is down from one that refused the evidence.
std::string Describe(const Status& s) {
  return std::string(CodeName(s.code())) + ": " + s.ToString();
}

std::string Seconds(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1fs", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

std::chrono::microseconds Micros(TimePoint a, TimePoint b) {
  return std::chrono::duration_cast<std::chrono::microseconds>(b - a);
}

}  // namespace

Notifier& SystemdNotifier() {
  static SdNotifier n;
  return n;
}

bool CondSleeper::Wait(std::chrono::milliseconds duration) {
  std::unique_lock<std::mutex> lock(mu_);
  bool woken = cv_.wait_for(lock, duration, [this] { return woken_; });
  woken_ = false;
  return woken;
}

void CondSleeper::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

BootFlow::BootFlow(BootDeps deps) : d_(std::move(deps)) {
  for (const auto& r : d_.config->resources) paths_.push_back(r.path);
}

std::chrono::milliseconds BootFlow::Backoff(const TimeoutsConfig& t, int attempt, double random) {
  double base = static_cast<double>(t.backoff_initial.count());
  double max = static_cast<double>(t.backoff_max.count());
  double d = std::min(max, base * std::pow(2.0, std::max(0, attempt - 1)));
  double factor = 1.0 - t.jitter + 2.0 * t.jitter * std::clamp(random, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(std::max(1.0, d * factor)));
}

void BootFlow::Status_(AgentPhase phase, const std::string& waiting_for) {
  d_.state->SetPhase(phase, waiting_for);
  std::string line = "STATUS=";
  if (d_.state->platform().simulated) line += "[SIMULATED TEE] ";
  line += waiting_for;
  d_.notifier->Notify(line);
}

Result<AttestOutcome> BootFlow::AttemptAll(TimePoint deadline, std::vector<std::string>* reasons,
                                           std::string* used) {
  for (const auto& rp : d_.config->relying_parties) {
    *used = rp.url;
    d_.state->SetRelyingParty(rp.url);
    TimePoint start = d_.clock->Now();
    Result<AttestOutcome> outcome = Unavailable("not attempted");
    {
      std::lock_guard<std::mutex> lock(attester_mu_);
      outcome = d_.attester->Attest(rp, paths_, deadline);
    }
    auto latency = Micros(start, d_.clock->Now());
    d_.metrics->CountAttestation(ResultName(outcome.status()), latency);
    if (outcome.ok()) {
      // Fail closed on an incomplete answer: every resource asked for must be there.
      for (const auto& path : paths_) {
        // Only a per-VM resource may be missing, and only when the relying party said so.
        bool not_provisioned =
            path.starts_with(kVmIdPath) &&
            std::find(outcome->not_provisioned.begin(), outcome->not_provisioned.end(), path) !=
                outcome->not_provisioned.end();
        if (outcome->resources.count(path) == 0 && !not_provisioned) {
          reasons->push_back(rp.url + ": the relying party did not return " + path);
          outcome = InvalidInput("incomplete answer");
          break;
        }
      }
      if (outcome.ok()) return outcome;
      continue;
    }
    reasons->push_back(rp.url + ": " + Describe(outcome.status()));
    log::Warning("attestation with " + rp.url + " failed: " + Describe(outcome.status()));
    if (stop_) break;
  }
  return Unavailable("no relying party released the resources");
}

Result<AttestOutcome> BootFlow::AttestWithRetries(std::optional<TimePoint> deadline, bool refresh) {
  TimePoint start = d_.clock->Now();
  AgentPhase busy = refresh ? AgentPhase::kRefreshing : AgentPhase::kAttesting;
  for (int attempt = 1;; ++attempt) {
    Status_(busy, "attesting with " + std::to_string(d_.config->relying_parties.size()) +
                      " relying part" + (d_.config->relying_parties.size() == 1 ? "y" : "ies") +
                      " (attempt " + std::to_string(attempt) + ")");
    std::vector<std::string> reasons;
    std::string used;
    TimePoint attempt_deadline =
        deadline ? *deadline : d_.clock->Now() + d_.config->timeouts.deadline;
    auto outcome = AttemptAll(attempt_deadline, &reasons, &used);
    AttestationResult result;
    result.at = d_.clock->Now();
    result.relying_party = used;
    result.attempts = attempt;
    if (outcome.ok()) {
      result.ok = true;
      result.token_expiry = outcome->token_expiry;
      d_.state->SetResult(result);
      std::vector<std::pair<std::string, std::chrono::microseconds>> phases;
      phases.emplace_back("attest_total", Micros(start, d_.clock->Now()));
      for (auto& p : outcome->phases) phases.push_back(p);
      d_.state->SetPhaseTimings(std::move(phases));
      return outcome;
    }
    result.reasons = reasons;
    d_.state->SetResult(result);
    if (stop_) return Unavailable("stopping");
    auto wait = Backoff(d_.config->timeouts, attempt, d_.random());
    TimePoint now = d_.clock->Now();
    std::string why = reasons.empty() ? "no relying party configured" : reasons.back();
    if (deadline && now + wait >= *deadline) {
      std::string all;
      for (const auto& r : reasons) all += (all.empty() ? "" : "; ") + r;
      return DeadlineExceeded("no relying party released the resources within " +
                              Seconds(d_.config->timeouts.deadline) + " (" +
                              std::to_string(attempt) + " attempts; last: " + all + ")");
    }
    Status_(AgentPhase::kWaiting, "waiting " + Seconds(wait) + " to retry (attempt " +
                                      std::to_string(attempt) + " failed: " + why + ")");
    d_.sleeper->Wait(wait);
    if (stop_) return Unavailable("stopping");
  }
}

Status BootFlow::Deliver(AttestOutcome& outcome, bool first) {
  std::lock_guard<std::mutex> deliver_lock(deliver_mu_);
  std::map<std::string, const SecretBytes*> by_name;
  for (const auto& r : d_.config->resources) {
    auto it = outcome.resources.find(r.path);
    if (it != outcome.resources.end()) by_name[r.name] = &it->second;
  }
  Status written = WriteFileSinks(*d_.config, by_name);
  if (!written.ok()) {
    for (const auto& r : d_.config->resources) {
      d_.state->SetResourceFailed(r.name, written.ToString());
    }
    return written;
  }
  TimePoint now = d_.clock->Now();
  for (const auto& r : d_.config->resources) {
    auto it = outcome.resources.find(r.path);
    if (it == outcome.resources.end()) {
      // A per-VM resource not provisioned yet (AttemptAll let nothing else through).
      d_.state->SetResourceNotProvisioned(r.name);
      continue;
    }
    SecretBytes& s = it->second;
    d_.secrets->Put(r.name, SecretBytes(ToBytes(s.view())));
    d_.state->SetResourceDelivered(r.name, now);
    if (!first) d_.metrics->CountSecretRefresh(r.name);
  }
  outcome.resources.clear();  // wipes the plaintexts
  token_expiry_ = outcome.token_expiry;
  token_issued_ = now;
  {
    std::lock_guard<std::mutex> lock(token_mu_);
    token_ = std::move(outcome.token);
  }
  return Status::Ok();
}

Result<BootFlow::ProvisionResult> BootFlow::Provision(const std::string& name) {
  const ResourceConfig* r = d_.config->FindResource(name);
  if (r == nullptr) return NotFound("no resource '" + name + "'");
  if (!r->per_vm()) {
    return InvalidInput("resource '" + name + "' is not a per-VM resource (its path is " + r->path +
                        ", not {vm_id}/type/tag)");
  }
  TimePoint deadline = d_.clock->Now() + d_.config->timeouts.deadline;
  std::string reasons;
  for (const auto& rp : d_.config->relying_parties) {
    Result<Attester::Provisioned> got = Unavailable("not attempted");
    {
      std::lock_guard<std::mutex> lock(attester_mu_);
      got = d_.attester->Provision(rp, r->path, deadline);
    }
    if (!got.ok()) {
      reasons += (reasons.empty() ? "" : "; ") + rp.url + ": " + Describe(got.status());
      log::Warning("provisioning " + r->path + " with " + rp.url +
                   " failed: " + Describe(got.status()));
      // A definite refusal is the answer; another relying party is tried only when this one
      // could not be reached or answered nonsense.
      if (got.status().code() == Code::kRejected || got.status().code() == Code::kNotFound) {
        return Status(got.status().code(), reasons);
      }
      continue;
    }
    std::lock_guard<std::mutex> lock(deliver_mu_);
    Status written = WriteFileSinks(*d_.config, {{r->name, &got->secret}});
    if (!written.ok()) {
      d_.state->SetResourceFailed(r->name, written.ToString());
      return written;
    }
    d_.secrets->Put(r->name, std::move(got->secret));
    d_.state->SetResourceDelivered(r->name, d_.clock->Now());
    log::Notice(std::string(got->created ? "provisioned a new value of " : "found the value of ") +
                r->path + " at " + rp.url + " (resource '" + r->name + "')");
    return ProvisionResult{got->created, rp.url};
  }
  if (reasons.empty()) return Unavailable("no relying party configured");
  return Unavailable(reasons);
}

std::string BootFlow::token() const {
  std::lock_guard<std::mutex> lock(token_mu_);
  return token_;
}

Status BootFlow::RunBoot() {
  TimePoint start = d_.clock->Now();
  if (d_.config->resources.empty()) {
    Status_(AgentPhase::kReady, "ready: no resources configured (evidence API only)");
    d_.notifier->Notify("READY=1");
    return Status::Ok();
  }
  TimePoint deadline = start + d_.config->timeouts.deadline;
  auto outcome = AttestWithRetries(deadline, false);
  if (!outcome.ok()) {
    Status_(AgentPhase::kFailed, "failed: " + Describe(outcome.status()));
    return outcome.status();
  }
  TimePoint attested = d_.clock->Now();
  Status delivered = Deliver(*outcome, true);
  if (!delivered.ok()) {
    Status_(AgentPhase::kFailed, "failed to deliver: " + Describe(delivered));
    return delivered;
  }
  TimePoint done = d_.clock->Now();
  auto result = d_.state->last_result();
  // Timings: the exchange's own steps (from the attester), then delivery and the total.
  {
    std::vector<std::pair<std::string, std::chrono::microseconds>> phases;
    phases.emplace_back("attest_total", Micros(start, attested));
    for (auto& p : outcome->phases) phases.push_back(p);
    phases.emplace_back("deliver", Micros(attested, done));
    phases.emplace_back("boot_total", Micros(start, done));
    d_.state->SetPhaseTimings(std::move(phases));
  }
  size_t pending = outcome->not_provisioned.size();
  Status_(AgentPhase::kReady,
          "ready: " + std::to_string(d_.config->resources.size() - pending) +
              " resource(s) delivered from " + (result ? result->relying_party : std::string("?")) +
              (pending ? "; " + std::to_string(pending) + " per-VM resource(s) not provisioned yet"
                       : std::string()));
  d_.notifier->Notify("READY=1");
  return Status::Ok();
}

void BootFlow::RequestAttest() {
  attest_requested_ = true;
  d_.sleeper->Wake();
}

void BootFlow::Stop() {
  stop_ = true;
  d_.sleeper->Wake();
}

void BootFlow::RunForever() {
  while (!stop_) {
    // The next scheduled re-attestation: before expiry, or on the interval; else only on request.
    std::optional<TimePoint> due;
    TimePoint now = d_.clock->Now();
    if (token_expiry_) {
      due = *token_expiry_ - d_.config->refresh.before_expiry;
      // A token that lives no longer than refresh.before_expiry (cvm-rp's and Trustee's live
      // 5 minutes, the default before_expiry) would be due at once, every time: a loop of
      // exchanges. Refresh such a token half-way through its life instead, and never sooner
      // than backoff_initial after the last delivery.
      TimePoint half = token_issued_ + (*token_expiry_ - token_issued_) / 2;
      due = std::max({*due, half, token_issued_ + d_.config->timeouts.backoff_initial});
    }
    if (d_.config->refresh.interval.count() > 0) {
      TimePoint next = now + d_.config->refresh.interval;
      if (!due || next < *due) due = next;
    }
    if (!attest_requested_) {
      // Wake at least hourly so a clock change cannot leave the flow asleep past an expiry.
      std::chrono::milliseconds wait = std::chrono::hours(1);
      if (due) {
        wait = std::max(
            std::chrono::milliseconds(0),
            std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(*due - now)));
      }
      if (wait.count() > 0) d_.sleeper->Wait(wait);
      if (stop_) return;
      if (!attest_requested_ && (!due || d_.clock->Now() < *due)) continue;
    }
    attest_requested_ = false;
    if (d_.config->resources.empty()) continue;
    auto outcome = AttestWithRetries(std::nullopt, true);
    if (!outcome.ok()) continue;  // only on Stop()
    Status delivered = Deliver(*outcome, false);
    if (!delivered.ok()) {
      log::Error("refresh: " + delivered.ToString());
      Status_(AgentPhase::kReady,
              "ready (last refresh failed to deliver: " + delivered.ToString() + ")");
      continue;
    }
    Status_(AgentPhase::kReady, "ready: resources refreshed");
  }
}

}  // namespace cvm::agent
