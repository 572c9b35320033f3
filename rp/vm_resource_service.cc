// KbsService's vm-resource plugin (kbs_service.h, vm_resources.h): per-VM values created at a
// VM's first request and served back only to a VM whose evidence gives the same VM id.
#include <chrono>

#include "evidence/kbs.h"
#include "rp/kbs_service.h"

namespace cvm::rp {
void KbsService::EnableVmResources(std::shared_ptr<VmResourceStore> store) {
  std::lock_guard lock(mu_);
  state_.vm_store = std::move(store);
}

std::shared_ptr<const Grant> KbsService::GrantOf(const HttpIn& request, TimePoint now,
                                                 AuditRecord& record, HttpOut* refusal) {
  std::shared_ptr<const Grant> grant;
  std::string id = evidence::SessionIdFromCookieHeader(request.cookie).value_or("");
  if (!id.empty()) {
    auto session = sessions_.Get(id);
    if (session.ok() && session->grant) grant = session->grant;
  }
  if (!grant) {
    constexpr std::string_view kBearer = "Bearer ";
    std::string_view auth = request.authorization;
    if (auth.substr(0, kBearer.size()) != kBearer) {
      record.session = id;
      record.reasons.push_back(id.empty() ? "no attested session cookie and no Bearer token"
                                          : "the session is unknown, expired or not attested, "
                                            "and no Bearer token");
      *refusal = Refuse(record, 401, "TokenNotFound", "Attestation Token not found");
      return nullptr;
    }
    std::string_view token = auth.substr(kBearer.size());
    record.evidence_digest = AuditDigest(token);
    if (auto verified = signer_.Verify(token, now); !verified.ok()) {
      record.reasons.push_back("bearer token: " + verified.status().message());
      *refusal = Refuse(record, 401, "TokenVerifierError", "Token Verifier error");
      return nullptr;
    }
    grant = sessions_.FindToken(token);
    if (!grant) {
      record.reasons.push_back("bearer token: not issued by this cvm-rp process (or expired)");
      *refusal = Refuse(record, 401, "TokenVerifierError", "Token Verifier error");
      return nullptr;
    }
  }
  record.session = grant->session_id;
  record.tee = std::string(evidence::TeeKindName(grant->tee));
  record.evidence_digest = grant->evidence_digest;
  if (now >= grant->expires) {
    record.reasons.push_back("the attestation token has expired");
    *refusal = Refuse(record, 401, "TokenVerifierError", "Token Verifier error");
    return nullptr;
  }
  return grant;
}

HttpOut KbsService::VmResource(const HttpIn& request, std::string_view type_tag) {
  AuditRecord record;
  record.event = "vm-resource";
  record.client = request.client;
  record.resource = std::string(evidence::kVmIdPlaceholder) + "/" + std::string(type_tag);
  const bool create = request.method == "POST";
  if (!create && request.method != "GET") {
    record.reasons.push_back(request.method + ": only GET and POST");
    return Refuse(std::move(record), 401, "PluginInternalError", "Plugin internal error");
  }
  TimePoint now = clock_.Now();
  HttpOut refusal;
  std::shared_ptr<const Grant> grant = GrantOf(request, now, record, &refusal);
  if (!grant) return refusal;
  if (Status valid = evidence::ValidateVmResourceTypeTag(type_tag); !valid.ok()) {
    record.reasons.push_back(valid.message());
    return Refuse(std::move(record), 401, "PluginInternalError", "Plugin internal error");
  }
  // Governed like a resource named vm/<type>/<tag> (docs/relying-party.md).
  const std::string governed = "vm/" + std::string(type_tag);
  State state = Snapshot();
  if (!state.vm_store)
    return Refuse(std::move(record), 404, "PluginNotFound", "Plugin vm-resource not found");
  const PolicyRule* rule = state.policy->RuleFor(governed);
  if (rule == nullptr) {
    record.reasons.push_back("no policy rule governs " + governed);
    return Refuse(std::move(record), 401, "PolicyDeny", "Access denied by policy");
  }
  auto age = std::chrono::duration_cast<std::chrono::seconds>(now - grant->evidence_time);
  auto violations = EvaluateRule(*rule, grant->claims, age);
  if (!violations.empty()) {
    for (auto& v : violations) record.reasons.push_back("policy " + rule->name + ": " + v);
    return Refuse(std::move(record), 401, "PolicyDeny", "Access denied by policy");
  }
  auto vm_id = DeriveVmId(grant->claims, state.vm_store->config().identity);
  if (!vm_id.ok()) {
    record.reasons.push_back("VM id: " + vm_id.status().message());
    return Refuse(std::move(record), 401, "PolicyDeny", "Access denied by policy");
  }
  record.resource = *vm_id + "/" + std::string(type_tag);

  SecretBytes value;
  bool created = false;
  if (create) {
    auto got = state.vm_store->GetOrCreate(*vm_id, type_tag);
    if (!got.ok()) {
      record.reasons.push_back(got.status().ToString());
      return got.status().code() == Code::kRejected
                 ? Refuse(std::move(record), 401, "PolicyDeny", "Access denied by policy")
                 : Refuse(std::move(record), 401, "PluginInternalError", "Plugin internal error");
    }
    value = std::move(got->value);
    created = got->created;
  } else {
    auto got = state.vm_store->Get(*vm_id, type_tag);
    if (!got.ok()) {
      record.reasons.push_back(got.status().ToString());
      return Refuse(std::move(record), 401, "PluginInternalError", "Plugin internal error");
    }
    if (!*got) {
      record.reasons.push_back("this VM has no such per-VM resource yet");
      return Refuse(std::move(record), 404, evidence::kVmResourceNotFound,
                    "No per-VM resource " + std::string(type_tag) + " for this VM");
    }
    value = std::move(**got);
  }
  auto jwe = sealer_.Seal(*grant->tee_key, value.view());
  if (!jwe.ok()) {
    record.reasons.push_back("JWE: " + jwe.status().message());
    return Refuse(std::move(record), 401, "JweError", "JWE failed");
  }
  record.allowed = true;
  record.status = created ? 201 : 200;
  if (create) {
    record.reasons.push_back(created ? "created" : "exists: the stored value was returned");
  }
  audit_.Write(record);
  HttpOut out;
  out.status = record.status;
  out.content_type = "application/json";
  out.body = std::move(jwe).value();
  return out;
}

}  // namespace cvm::rp
