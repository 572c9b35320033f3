#include "agent/state.h"

#include <cstdio>

#include "common/args.h"
#include "common/http_helper.h"

namespace cvm::agent {

const char* AgentPhaseName(AgentPhase phase) {
  switch (phase) {
    case AgentPhase::kStarting:
      return "starting";
    case AgentPhase::kAttesting:
      return "attesting";
    case AgentPhase::kWaiting:
      return "waiting";
    case AgentPhase::kReady:
      return "ready";
    case AgentPhase::kRefreshing:
      return "refreshing";
    case AgentPhase::kFailed:
      return "failed";
  }
  return "?";
}

namespace {

const char* DeliveryName(DeliveryState s) {
  switch (s) {
    case DeliveryState::kPending:
      return "pending";
    case DeliveryState::kDelivered:
      return "delivered";
    case DeliveryState::kFailed:
      return "failed";
    case DeliveryState::kNotProvisioned:
      return "not_provisioned";
  }
  return "?";
}

}  // namespace

AgentState::AgentState(const Config& config, Platform platform, TimePoint started)
    : config_(config), platform_(std::move(platform)), started_(started) {
  for (const auto& r : config_.resources) resources_[r.name] = ResourceStatus{};
}

void AgentState::SetPhase(AgentPhase phase, std::string waiting_for) {
  std::lock_guard<std::mutex> lock(mu_);
  phase_ = phase;
  waiting_for_ = std::move(waiting_for);
}

AgentPhase AgentState::phase() const {
  std::lock_guard<std::mutex> lock(mu_);
  return phase_;
}

void AgentState::SetRelyingParty(std::string url) {
  std::lock_guard<std::mutex> lock(mu_);
  relying_party_ = std::move(url);
}

void AgentState::SetResult(AttestationResult result) {
  std::lock_guard<std::mutex> lock(mu_);
  last_ = std::move(result);
}

std::optional<AttestationResult> AgentState::last_result() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_;
}

void AgentState::SetPhaseTimings(
    std::vector<std::pair<std::string, std::chrono::microseconds>> timings) {
  std::lock_guard<std::mutex> lock(mu_);
  timings_ = std::move(timings);
}

void AgentState::SetResourceDelivered(const std::string& name, TimePoint at) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& r = resources_[name];
  r.state = DeliveryState::kDelivered;
  r.delivered_at = at;
  r.error.clear();
  ++r.deliveries;
}

void AgentState::SetResourceNotProvisioned(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& r = resources_[name];
  // A value provisioned by this process keeps being served (the relying party may have lost it;
  // the error says so).
  if (r.state == DeliveryState::kDelivered) {
    r.error = "the relying party holds no value for this VM";
    return;
  }
  r.state = DeliveryState::kNotProvisioned;
  r.error.clear();
}

void AgentState::SetResourceFailed(const std::string& name, std::string error) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& r = resources_[name];
  // A resource that was delivered before keeps being served; the error is still reported.
  if (r.state != DeliveryState::kDelivered) r.state = DeliveryState::kFailed;
  r.error = std::move(error);
}

std::map<std::string, ResourceStatus> AgentState::resources() const {
  std::lock_guard<std::mutex> lock(mu_);
  return resources_;
}

nlohmann::json AgentState::StatusJson(TimePoint now) const {
  std::lock_guard<std::mutex> lock(mu_);
  using nlohmann::json;
  json j;
  j["version"] = Version();
  j["tee"] = {{"kind", TeeKindName(platform_.kind)},
              {"found_by", platform_.found_by},
              {"simulated", platform_.simulated}};
  j["simulated"] = platform_.simulated;
  j["state"] = AgentPhaseName(phase_);
  j["waiting_for"] = waiting_for_;
  j["uptime_seconds"] = std::chrono::duration_cast<std::chrono::seconds>(now - started_).count();
  j["relying_party"] = relying_party_;
  if (last_) {
    json r = {{"ok", last_->ok},
              {"at", FormatTime(last_->at)},
              {"relying_party", last_->relying_party},
              {"attempts", last_->attempts},
              {"reasons", last_->reasons}};
    if (last_->token_expiry) r["token_expiry"] = FormatTime(*last_->token_expiry);
    j["last_result"] = r;
  } else {
    j["last_result"] = nullptr;
  }
  json phases = json::array();
  for (const auto& [name, us] : timings_) {
    phases.push_back({{"phase", name}, {"ms", static_cast<double>(us.count()) / 1000.0}});
  }
  j["phases"] = phases;
  json resources = json::array();
  for (const auto& rc : config_.resources) {
    auto it = resources_.find(rc.name);
    const ResourceStatus st = it == resources_.end() ? ResourceStatus{} : it->second;
    json sinks = json::array();
    if (rc.file) sinks.push_back("file");
    if (rc.credential) sinks.push_back("credential");
    if (rc.cryptsetup) sinks.push_back("cryptsetup");
    if (rc.api) sinks.push_back("api");
    json r = {{"name", rc.name},
              {"path", rc.path},
              {"sinks", sinks},
              {"state", DeliveryName(st.state)},
              {"deliveries", st.deliveries}};
    if (st.delivered_at) r["delivered_at"] = FormatTime(*st.delivered_at);
    if (!st.error.empty()) r["error"] = st.error;
    resources.push_back(r);
  }
  j["resources"] = resources;
  return j;
}

void Metrics::CountAttestation(const std::string& result, std::chrono::microseconds latency) {
  std::lock_guard<std::mutex> lock(mu_);
  ++attestations_[result];
  double seconds = static_cast<double>(latency.count()) / 1e6;
  for (size_t i = 0; i < std::size(kLatencyBuckets); ++i) {
    if (seconds <= kLatencyBuckets[i]) ++latency_counts_[i];
  }
  ++latency_count_;
  latency_sum_ += seconds;
}

void Metrics::CountSecretRefresh(const std::string& resource) {
  std::lock_guard<std::mutex> lock(mu_);
  ++refreshes_[resource];
}

void Metrics::CountRequest(const std::string& path, int code) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{path, code}];
}

std::string Metrics::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  char buf[64];
  auto num = [&](double v) {
    std::snprintf(buf, sizeof(buf), "%g", v);
    return std::string(buf);
  };
  out += "# HELP cvm_agent_attestations_total Relying-party exchanges by result.\n";
  out += "# TYPE cvm_agent_attestations_total counter\n";
  for (const auto& [result, n] : attestations_) {
    out += "cvm_agent_attestations_total{result=\"" + result + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP cvm_agent_attestation_duration_seconds Duration of one relying-party exchange.\n";
  out += "# TYPE cvm_agent_attestation_duration_seconds histogram\n";
  for (size_t i = 0; i < std::size(kLatencyBuckets); ++i) {
    out += "cvm_agent_attestation_duration_seconds_bucket{le=\"" + num(kLatencyBuckets[i]) +
           "\"} " + std::to_string(latency_counts_[i]) + "\n";
  }
  out += "cvm_agent_attestation_duration_seconds_bucket{le=\"+Inf\"} " +
         std::to_string(latency_count_) + "\n";
  out += "cvm_agent_attestation_duration_seconds_sum " + num(latency_sum_) + "\n";
  out += "cvm_agent_attestation_duration_seconds_count " + std::to_string(latency_count_) + "\n";
  out += "# HELP cvm_agent_secret_refreshes_total Deliveries of a resource after the first.\n";
  out += "# TYPE cvm_agent_secret_refreshes_total counter\n";
  for (const auto& [name, n] : refreshes_) {
    out +=
        "cvm_agent_secret_refreshes_total{resource=\"" + name + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP cvm_agent_api_requests_total API requests by route and status code.\n";
  out += "# TYPE cvm_agent_api_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out += "cvm_agent_api_requests_total{path=\"" + key.first + "\",code=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  }
  const HttpHelperStats helpers = GetHttpHelperStats();
  out += "# HELP cvm_agent_http_helpers_total HTTP helper processes (cvm-agent-http) started.\n";
  out += "# TYPE cvm_agent_http_helpers_total counter\n";
  out += "cvm_agent_http_helpers_total " + std::to_string(helpers.started) + "\n";
  out +=
      "# HELP cvm_agent_http_helper_cpu_seconds_total CPU time of the HTTP helper processes "
      "that have ended.\n";
  out += "# TYPE cvm_agent_http_helper_cpu_seconds_total counter\n";
  out += "cvm_agent_http_helper_cpu_seconds_total " + num(double(helpers.cpu.count()) / 1e6) + "\n";
  return out;
}

}  // namespace cvm::agent
