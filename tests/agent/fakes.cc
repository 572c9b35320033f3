#include "tests/agent/fakes.h"

#include <nlohmann/json.hpp>

#include "common/encoding.h"

namespace cvm::agent::testing {

Result<AttestOutcome> FakeAttester::Attest(const RelyingPartyConfig& rp,
                                           const std::vector<std::string>& resource_paths,
                                           TimePoint deadline) {
  calls.push_back(rp.url);
  deadlines.push_back(deadline);
  Status s = script_(rp.url, static_cast<int>(calls.size()));
  if (!s.ok()) return s;
  AttestOutcome out;
  for (const auto& path : resource_paths) {
    std::string secret = SecretOf(path);
    out.resources[path] = SecretBytes(Bytes(secret.begin(), secret.end()));
  }
  out.token = "header.claims.signature";
  if (token_expiry) out.token_expiry = token_expiry();
  out.phases.emplace_back("evidence", std::chrono::microseconds(1500));
  out.phases.emplace_back("network", std::chrono::microseconds(2500));
  return out;
}

Result<std::string> FakeEvidence::Collect(const EvidenceRequest& request) {
  std::lock_guard<std::mutex> lock(mu);
  requests.push_back(request);
  nlohmann::json j = {{"cvm-evidence-bundle", 1}, {"tee", "sim-snp"}};
  if (request.runtime_data) j["runtime_data"] = *request.runtime_data;
  if (request.report_data) {
    j["report_data_raw"] = HexEncode(ByteSpan(request.report_data->data(), 64));
  }
  return j.dump();
}

bool FakeSleeper::Wait(std::chrono::milliseconds d) {
  waits.push_back(d);
  clock_.Set(clock_.Now() + d);
  return false;
}

}  // namespace cvm::agent::testing
