#include "agent/kbs_attester.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>

#include "common/encoding.h"
#include "common/file_util.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/ossl.h"
#include "evidence/bundle.h"
#include "evidence/collect.h"
#include "evidence/kbs_client.h"
#include "evidence/trustee.h"

namespace cvm::agent {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

evidence::TeeKind TrusteeKind(TeeKind kind) {
  switch (kind) {
    case TeeKind::kSnp:
    case TeeKind::kSimSnp:
      return evidence::TeeKind::kSnp;
    case TeeKind::kTdx:
    case TeeKind::kSimTdx:
      return evidence::TeeKind::kTdx;
    case TeeKind::kAzSnpVtpm:
      return evidence::TeeKind::kAzSnpVtpm;
    case TeeKind::kAzTdxVtpm:
      return evidence::TeeKind::kAzTdxVtpm;
  }
  return evidence::TeeKind::kSnp;
}

// Adds the time spent in each request (waiting on the relying party and the network) to *total.
class TimedHttpClient final : public HttpClient {
 public:
  TimedHttpClient(HttpClient& inner, const Clock& clock, microseconds* total)
      : inner_(inner), clock_(clock), total_(total) {}
  Result<HttpResponse> Send(const HttpRequest& request) override {
    TimePoint t0 = clock_.Now();
    auto response = inner_.Send(request);
    *total_ += duration_cast<microseconds>(clock_.Now() - t0);
    return response;
  }

 private:
  HttpClient& inner_;
  const Clock& clock_;
  microseconds* total_;
};

// Clamps every request's timeouts to what is left until the exchange's deadline.
class DeadlineHttpClient final : public HttpClient {
 public:
  DeadlineHttpClient(HttpClient& inner, const Clock& clock, TimePoint deadline)
      : inner_(inner), clock_(clock), deadline_(deadline) {}
  Result<HttpResponse> Send(const HttpRequest& request) override {
    TimePoint now = clock_.Now();
    if (now >= deadline_) {
      return DeadlineExceeded("the attestation deadline passed before " + request.url);
    }
    milliseconds left = std::max(milliseconds(1), duration_cast<milliseconds>(deadline_ - now));
    HttpRequest r = request;
    r.timeout = std::min(r.timeout, left);
    r.connect_timeout = std::min(r.connect_timeout, left);
    return inner_.Send(r);
  }

 private:
  HttpClient& inner_;
  const Clock& clock_;
  TimePoint deadline_;
};

class KbsAttester final : public Attester {
 public:
  KbsAttester(const Config& config, std::shared_ptr<EvidenceCollector> collector,
              KbsAttesterDeps deps, std::map<std::string, ossl::PKey> token_keys)
      : config_(config),
        collector_(std::move(collector)),
        deps_(std::move(deps)),
        token_keys_(std::move(token_keys)) {}

  Result<AttestOutcome> Attest(const RelyingPartyConfig& rp,
                               const std::vector<std::string>& resource_paths,
                               TimePoint deadline) override {
    return Exchange(rp, deadline, [&](evidence::KbsClient& client, AttestOutcome& outcome) {
      for (const auto& path : resource_paths) {
        CVM_ASSIGN_OR_RETURN(std::optional<std::string> per_vm, evidence::VmResourceTypeTag(path));
        if (per_vm) {
          CVM_ASSIGN_OR_RETURN(evidence::VmResourceValue v, client.VmResource(*per_vm, false));
          if (v.value) {
            outcome.resources.emplace(path, std::move(*v.value));
          } else {
            outcome.not_provisioned.push_back(path);
          }
          continue;
        }
        CVM_ASSIGN_OR_RETURN(SecretBytes secret, client.GetResource(path));
        outcome.resources.emplace(path, std::move(secret));
      }
      return Status::Ok();
    });
  }

  Result<Provisioned> Provision(const RelyingPartyConfig& rp, const std::string& path,
                                TimePoint deadline) override {
    CVM_ASSIGN_OR_RETURN(std::optional<std::string> per_vm, evidence::VmResourceTypeTag(path));
    if (!per_vm) return InvalidInput(path + " is not a per-VM resource ({vm_id}/type/tag)");
    Provisioned out;
    auto outcome =
        Exchange(rp, deadline, [&](evidence::KbsClient& client, AttestOutcome&) -> Status {
          CVM_ASSIGN_OR_RETURN(evidence::VmResourceValue v, client.VmResource(*per_vm, true));
          if (!v.value) return Internal("the relying party created no value");
          out.secret = std::move(*v.value);
          out.created = v.created;
          return Status::Ok();
        });
    if (!outcome.ok()) return outcome.status();
    return out;
  }

 private:
  // One exchange with `rp`: attest, then `work` with the attested client; the outcome carries
  // the token and the phase timings.
  Result<AttestOutcome> Exchange(
      const RelyingPartyConfig& rp, TimePoint deadline,
      const std::function<Status(evidence::KbsClient&, AttestOutcome&)>& work) {
    const Clock& clock = *deps_.clock;
    TimePoint start = clock.Now();
    if (start >= deadline) return DeadlineExceeded("the attestation deadline has passed");

    evidence::KbsEndpoint endpoint;
    endpoint.url = rp.url;
    endpoint.ca_file = rp.ca_file;
    if (!rp.pin_sha256.empty()) {
      // The configuration holds the pin as hex; the HTTP seam takes curl's base64 form.
      CVM_ASSIGN_OR_RETURN(Bytes pin, HexDecodeFixed(rp.pin_sha256, 32));
      endpoint.pinned_spki_sha256 = Base64Encode(pin);
    }
    endpoint.proxy = rp.proxy;  // "": no proxy, never the environment
    evidence::KbsClientOptions options;
    options.endpoints = {endpoint};
    options.tee = TrusteeKind(collector_->kind());
    options.clock = &clock;
    options.timeout = config_.timeouts.request;
    options.connect_timeout = config_.timeouts.connect;
    if (!rp.token_key.empty()) {
      auto key = token_keys_.find(rp.token_key);
      if (key == token_keys_.end()) {
        return InvalidInput("token_key " + rp.token_key + " was not loaded at start");
      }
      options.token_key = key->second.get();
    }

    microseconds evidence_time{0};
    evidence::CollectTimings collect_timings;
    auto provider = [this, &clock, &evidence_time, &collect_timings](
                        const evidence::KbsChallenge& challenge, const nlohmann::json& tee_pubkey,
                        DigestAlg hash) -> Result<evidence::KbsEvidence> {
      TimePoint t0 = clock.Now();
      evidence::CollectRequest request;
      request.nonce = challenge.nonce;
      request.tee_pubkey = tee_pubkey;
      request.hash = hash;
      auto bundle = collector_->Collect(std::move(request), &collect_timings);
      evidence_time += duration_cast<microseconds>(clock.Now() - t0);
      if (!bundle.ok()) return bundle.status();
      CVM_ASSIGN_OR_RETURN(evidence::TrusteeEvidence te, evidence::ToTrusteeEvidence(*bundle));
      evidence::KbsEvidence ev;
      ev.primary_evidence = std::move(te.primary);
      ev.additional_evidence = std::move(te.additional);
      ev.init_data = bundle->init_data;
      return ev;
    };

    TimePoint helper_start = clock.Now();
    CVM_ASSIGN_OR_RETURN(std::unique_ptr<HttpClient> http, deps_.new_http());
    const microseconds helper_time = duration_cast<microseconds>(clock.Now() - helper_start);
    DeadlineHttpClient bounded(*http, clock, deadline);
    microseconds network_time{0};
    TimedHttpClient timed(bounded, clock, &network_time);
    evidence::KbsClient client(timed, std::move(options), provider);
    CVM_ASSIGN_OR_RETURN(evidence::KbsToken token, client.Attest());
    AttestOutcome outcome;
    CVM_RETURN_IF_ERROR(work(client, outcome));
    client.EndSession();
    // The relying party accepted the evidence: GPUs whose evidence it saw may now take work.
    // A failure leaves them not ready (fail closed); the CPU's secrets were released
    // legitimately, so the exchange still succeeds and the log says why the GPUs refuse work.
    if (Status ready = collector_->MarkGpusReady(); !ready.ok()) {
      log::Error("gpu: could not mark the GPUs ready", {{"ERROR", ready.ToString()}});
    }
    outcome.token = std::move(token.token);
    outcome.token_expiry = token.expires;
    microseconds total = duration_cast<microseconds>(clock.Now() - start);
    outcome.phases.emplace_back("evidence", evidence_time);
    outcome.phases.emplace_back("evidence_tee", collect_timings.tee);
    outcome.phases.emplace_back("evidence_tpm", collect_timings.tpm);
    outcome.phases.emplace_back("network", network_time);
    outcome.phases.emplace_back("http_helper", helper_time);
    outcome.phases.emplace_back(
        "exchange_own",
        std::max(microseconds(0), total - evidence_time - network_time - helper_time));
    return outcome;
  }

  const Config& config_;
  std::shared_ptr<EvidenceCollector> collector_;
  KbsAttesterDeps deps_;
  std::map<std::string, ossl::PKey> token_keys_;  // token_key file -> its public key
};

}  // namespace

Result<std::unique_ptr<Attester>> NewKbsAttester(const Config& config,
                                                 std::shared_ptr<EvidenceCollector> collector,
                                                 KbsAttesterDeps deps) {
  if (!collector) return InvalidInput("the attester needs an evidence collector");
  if (!deps.new_http) return InvalidInput("the attester needs an HTTP client factory");
  if (deps.clock == nullptr) deps.clock = &SystemClock::Get();
  std::map<std::string, ossl::PKey> keys;
  for (const auto& rp : config.relying_parties) {
    if (rp.token_key.empty() || keys.count(rp.token_key) != 0) continue;
    auto pem = ReadTextFile(rp.token_key);
    if (!pem.ok()) return pem.status().WithContext("token_key " + rp.token_key);
    auto key = PublicKeyFromPem(*pem);
    if (!key.ok()) return key.status().WithContext("token_key " + rp.token_key);
    keys.emplace(rp.token_key, std::move(key).value());
  }
  return std::unique_ptr<Attester>(
      new KbsAttester(config, std::move(collector), std::move(deps), std::move(keys)));
}

}  // namespace cvm::agent
