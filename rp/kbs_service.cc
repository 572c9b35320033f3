#include "rp/kbs_service.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <ctime>

#include "common/args.h"
#include "common/encoding.h"
#include "common/log.h"
#include "evidence/kbs.h"

namespace cvm::rp {
namespace {

using nlohmann::json;

constexpr std::string_view kPrefix = "/kbs/v0/";
constexpr std::string_view kAttestFailed = "Attestation error: RCAR handshake Attest failed";
constexpr std::string_view kAuthFailed = "Attestation error: RCAR handshake Auth failed";
constexpr std::string_view kEatProfile = "tag:github.com,2024:confidential-containers/Trustee";

int64_t UnixSeconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// Printable ASCII only, bounded: the header must not carry CR/LF or arbitrary bytes.
std::string HeaderSafe(const std::vector<std::string>& reasons) {
  std::string out;
  for (const auto& r : reasons) {
    if (!out.empty()) out += "; ";
    out += r;
  }
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  if (out.size() > 1024) out.resize(1024);
  return out;
}

bool SameNonce(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

AuditRecord Record(std::string event, const HttpIn& request) {
  AuditRecord record;
  record.event = std::move(event);
  record.client = request.client;
  return record;
}

// The session id of the request's kbs-session-id cookie, "" when absent.
std::string SessionIdOf(const HttpIn& request) {
  return evidence::SessionIdFromCookieHeader(request.cookie).value_or("");
}

HttpOut Json(int status, std::string body) {
  HttpOut out;
  out.status = status;
  out.content_type = "application/json";
  out.body = std::move(body);
  return out;
}

}  // namespace

std::string HttpDate(TimePoint t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

KbsService::KbsService(const Clock& clock, SessionStore& sessions, const Appraiser& appraiser,
                       const ResourceSealer& sealer, const TokenSigner& signer, AuditLog& audit,
                       ServiceOptions options, std::shared_ptr<const Policy> policy,
                       std::shared_ptr<const ResourceStore> resources)
    : clock_(clock),
      sessions_(sessions),
      appraiser_(appraiser),
      sealer_(sealer),
      signer_(signer),
      audit_(audit),
      options_(std::move(options)),
      state_{std::move(policy), std::move(resources), nullptr} {
  if (!state_.resources) state_.resources = std::make_shared<const ResourceStore>();
}

void KbsService::Reload(std::shared_ptr<const Policy> policy,
                        std::shared_ptr<const ResourceStore> resources) {
  std::lock_guard lock(mu_);
  state_.policy = std::move(policy);
  state_.resources = resources ? std::move(resources) : std::make_shared<const ResourceStore>();
}

KbsService::State KbsService::Snapshot() const {
  std::lock_guard lock(mu_);
  return state_;
}

HttpOut KbsService::Refuse(AuditRecord record, int status, std::string_view variant,
                           std::string_view detail) {
  record.allowed = false;
  record.status = status;
  // The detail can quote a path segment: never throw on bytes that are not UTF-8.
  HttpOut out = Json(status, evidence::ToJson(evidence::MakeKbsError(variant, detail))
                                 .dump(-1, ' ', false, json::error_handler_t::replace));
  // Trustee's error builder sets no Content-Type (kbs-protocol.md section a, "Errors").
  out.content_type.clear();
  if (options_.diagnostic_header) {
    out.headers.emplace_back(std::string(kReasonHeader), HeaderSafe(record.reasons));
  }
  audit_.Write(record);
  return out;
}

std::string KbsService::SessionCookie(const Session& s) const {
  return std::string(evidence::kKbsSessionCookie) + "=" + s.id + "; Expires=" + HttpDate(s.expires);
}

HttpOut KbsService::Handle(const HttpIn& request) {
  try {
    std::string_view path = request.target;
    path = path.substr(0, path.find('?'));
    if (path.substr(0, kPrefix.size()) != kPrefix) {
      HttpOut out;
      out.status = 404;
      return out;
    }
    std::string_view rest = path.substr(kPrefix.size());
    std::string_view plugin = rest.substr(0, rest.find('/'));
    if (rest == "auth" && request.method == "POST") return Auth(request);
    if (rest == "attest" && request.method == "POST") return Attest(request);
    if (plugin == "resource") {
      std::string_view resource = rest.substr(std::min(rest.size(), plugin.size() + 1));
      if (request.method == "GET") return Resource(request, resource);
      // Trustee's resource plugin takes writes through its admin API, which cvm-rp does not have.
      AuditRecord record = Record("resource", request);
      record.resource = std::string(resource);
      record.reasons.push_back(request.method + ": cvm-rp has no admin API for resources");
      return Refuse(std::move(record), 401, "PluginInternalError", "Plugin internal error");
    }
    if (plugin == evidence::kVmResourcePlugin && Snapshot().vm_store) {
      return VmResource(request, rest.substr(std::min(rest.size(), plugin.size() + 1)));
    }
    AuditRecord record = Record("plugin", request);
    record.reasons.push_back(request.method + " " + std::string(path) + ": no such endpoint");
    return Refuse(std::move(record), 404, "PluginNotFound",
                  "Plugin " + std::string(plugin) + " not found");
  } catch (const std::exception& e) {
    // A bug, not the client's fault; never let an exception reach the transport.
    log::Error(std::string("request handler: ") + e.what());
    AuditRecord record = Record("error", request);
    record.reasons.push_back("internal error");
    return Refuse(std::move(record), 401, "AttestationError", kAttestFailed);
  }
}

HttpOut KbsService::Auth(const HttpIn& request) {
  AuditRecord record = Record("auth", request);
  auto parsed = evidence::ParseKbsRequest(request.body);
  if (!parsed.ok()) {
    record.reasons.push_back(parsed.status().message());
    return Refuse(std::move(record), 401, "AttestationError",
                  std::string(kAuthFailed) + ": deserialize Request");
  }
  auto tee = evidence::ParseTeeKind(parsed->tee);
  if (!tee.ok()) {
    record.reasons.push_back(tee.status().message());
    // kbs-types refuses names it does not know while deserialising; a kind it knows but we do
    // not appraise is refused here, with its own detail.
    return Refuse(std::move(record), 401, "AttestationError",
                  std::string(kAuthFailed) + (tee.status().code() == Code::kUnsupported
                                                  ? ": TEE not supported by this KBS"
                                                  : ": deserialize Request"));
  }
  record.tee = parsed->tee;
  if (parsed->version != evidence::kKbsProtocolVersion) {
    record.reasons.push_back("protocol version " + parsed->version + " is not 0.4.0");
    return Refuse(std::move(record), 401, "AttestationError",
                  std::string(kAuthFailed) +
                      ": KBS Client Protocol Version Mismatch: expect =0.4.0 while the request "
                      "is " +
                      parsed->version);
  }
  auto session = sessions_.Create(*tee);
  if (!session.ok()) {
    record.reasons.push_back(session.status().message());
    return Refuse(std::move(record), 401, "AttestationError", kAuthFailed);
  }
  record.session = session->id;
  record.allowed = true;
  record.status = 200;
  audit_.Write(record);
  // extra-params "": the builtin attestation service's answer for every TEE we accept (the
  // client then binds with sha384, which is what the session records).
  HttpOut out =
      Json(200, evidence::ToJson(evidence::KbsChallenge{session->nonce, std::nullopt}).dump());
  out.headers.emplace_back("Set-Cookie", SessionCookie(*session));
  return out;
}

HttpOut KbsService::Attest(const HttpIn& request) {
  AuditRecord record = Record("attest", request);
  record.evidence_digest = AuditDigest(request.body);
  auto refuse = [&](std::string reason) {
    record.reasons.push_back(std::move(reason));
    return Refuse(std::move(record), 401, "AttestationError", kAttestFailed);
  };
  std::string id = SessionIdOf(request);
  if (id.empty()) return refuse("no kbs-session-id cookie");
  record.session = id;
  // The evidence goes only to the appraiser (FromTrusteeEvidence): its byte arrays are parsed
  // as binary values, not one JSON value per byte.
  auto attestation = evidence::ParseKbsAttestation(request.body, /*bytes_as_binary=*/true);
  if (!attestation.ok()) return refuse(attestation.status().message());
  auto session = sessions_.Get(id);
  if (!session.ok()) return refuse(session.status().message());
  record.tee = std::string(evidence::TeeKindName(session->tee));
  if (session->grant) {
    // Trustee returns the stored token without appraising again (backend.rs, __attest).
    record.allowed = true;
    record.status = 200;
    record.reasons.push_back("session already attested: the stored token was returned");
    audit_.Write(record);
    HttpOut out = Json(200, evidence::TokenResponseJson(session->grant->token).dump());
    out.headers.emplace_back("Set-Cookie", SessionCookie(*session));
    return out;
  }
  if (!SameNonce(attestation->nonce, session->nonce)) {
    return refuse("runtime-data.nonce is not the nonce of this session");
  }
  auto tee_key = sealer_.CheckKey(attestation->tee_pubkey);
  if (!tee_key.ok()) return refuse("tee-pubkey: " + tee_key.status().message());
  TimePoint now = clock_.Now();
  AppraisalInput input;
  input.tee = session->tee;
  input.hash = session->hash;
  input.nonce = session->nonce;
  input.tee_pubkey = attestation->tee_pubkey;
  input.primary_evidence = std::move(attestation->primary_evidence);
  input.additional_evidence = attestation->additional_evidence;
  input.init_data = attestation->init_data;
  input.at = now;
  auto appraisal = appraiser_.Appraise(input);
  if (!appraisal.ok()) return refuse("appraisal failed: " + appraisal.status().ToString());
  if (!appraisal->verified) {
    if (appraisal->reasons.empty()) return refuse("evidence not verified");
    for (auto& r : appraisal->reasons) record.reasons.push_back("evidence: " + r);
    return Refuse(std::move(record), 401, "AttestationError", kAttestFailed);
  }
  // A token only for evidence that some rule accepts; otherwise report every rule's refusals.
  State state = Snapshot();
  auto age = std::chrono::duration_cast<std::chrono::seconds>(now - session->created);
  bool accepted = false;
  std::vector<std::string> violations;
  for (const PolicyRule* rule : state.policy->Rules()) {
    auto v = EvaluateRule(*rule, appraisal->claims, age);
    if (v.empty()) {
      accepted = true;
      break;
    }
    for (auto& r : v) violations.push_back("policy " + rule->name + ": " + r);
  }
  if (!accepted) {
    record.reasons = std::move(violations);
    return Refuse(std::move(record), 401, "AttestationError", kAttestFailed);
  }

  json runtime = {{"tee-pubkey", input.tee_pubkey},
                  {"nonce", input.nonce},
                  {"additional-evidence", input.additional_evidence}};
  // The CPU's claims in cpu0, each GPU's in its own submod gpu0, gpu1, ... (Trustee's AS names
  // one submod per device class and index, ear_token/broker.rs).
  json cpu_claims = appraisal->claims_json;
  if (cpu_claims.is_object()) cpu_claims.erase("gpus");
  json annotated = {{std::string(evidence::TeeKindName(session->tee)), cpu_claims},
                    {"runtime_data_claims", runtime}};
  if (input.init_data) {
    annotated["init_data"] = {{"format", input.init_data->format}, {"body", input.init_data->body}};
  }
  int64_t iat = UnixSeconds(now);
  json claims = {
      {"eat_profile", kEatProfile},
      {"iat", iat},
      {"exp", iat + options_.token_lifetime.count()},
      {"iss", options_.issuer},
      {"ear.verifier-id",
       {{"build", std::string("cvm-rp ") + Version()}, {"developer", "cvm-agent"}}},
      {"submods",
       {{"cpu0",
         {{"ear.status", "affirming"},
          {"ear.trustworthiness-vector",
           {{"instance-identity", 2}, {"configuration", 2}, {"executables", 2}, {"hardware", 2}}},
          {"ear.appraisal-policy-id", state.policy->digest},
          {"ear.veraison.annotated-evidence", annotated}}}}}};
  for (size_t i = 0; i < appraisal->claims.gpus.size(); ++i) {
    claims["submods"]["gpu" + std::to_string(i)] = {
        {"ear.status", "affirming"},
        {"ear.trustworthiness-vector",
         {{"instance-identity", 2}, {"configuration", 2}, {"executables", 2}, {"hardware", 2}}},
        {"ear.appraisal-policy-id", state.policy->digest},
        {"ear.veraison.annotated-evidence",
         {{"nvidia", evidence::Claims::GpuJson(appraisal->claims.gpus[i])}}}};
  }
  auto token = signer_.Sign(claims);
  if (!token.ok()) return refuse("token signing failed: " + token.status().ToString());

  auto grant = std::make_shared<Grant>();
  grant->tee = session->tee;
  grant->claims = appraisal->claims;
  grant->tee_key = std::move(tee_key).value();
  grant->evidence_time = session->created;
  grant->expires = now + options_.token_lifetime;
  grant->token = std::move(token).value();
  grant->session_id = id;
  grant->evidence_digest = record.evidence_digest;
  auto held = sessions_.Attest(id, grant);
  if (!held.ok()) return refuse(held.status().message());
  sessions_.RememberToken(*held);
  record.allowed = true;
  record.status = 200;
  if (*held != grant) {
    // A concurrent request with the same nonce stored its grant first: this appraisal earned
    // nothing of its own (the token just signed is dropped), and the audit log must say so.
    record.reasons.push_back(
        "session already attested by a concurrent request: the stored token was returned");
  }
  for (auto& note : appraisal->notes) record.reasons.push_back("note: " + note);
  audit_.Write(record);
  HttpOut out = Json(200, evidence::TokenResponseJson((*held)->token).dump());
  out.headers.emplace_back("Set-Cookie", SessionCookie(*session));
  return out;
}

HttpOut KbsService::Resource(const HttpIn& request, std::string_view path) {
  AuditRecord record = Record("resource", request);
  record.resource = std::string(path);
  TimePoint now = clock_.Now();
  HttpOut refusal;
  std::shared_ptr<const Grant> grant = GrantOf(request, now, record, &refusal);
  if (!grant) return refusal;
  if (Status valid = evidence::ValidateResourcePath(path); !valid.ok()) {
    record.reasons.push_back(valid.message());
    return Refuse(std::move(record), 401, "PluginInternalError", "Plugin internal error");
  }
  State state = Snapshot();
  const PolicyRule* rule = state.policy->RuleFor(path);
  if (rule == nullptr) {
    record.reasons.push_back("no policy rule governs this resource");
    return Refuse(std::move(record), 401, "PolicyDeny", "Access denied by policy");
  }
  auto age = std::chrono::duration_cast<std::chrono::seconds>(now - grant->evidence_time);
  auto violations = EvaluateRule(*rule, grant->claims, age);
  if (!violations.empty()) {
    for (auto& v : violations) record.reasons.push_back("policy " + rule->name + ": " + v);
    return Refuse(std::move(record), 401, "PolicyDeny", "Access denied by policy");
  }
  auto value = state.resources->Find(path);
  if (!value) {
    record.reasons.push_back("no such resource");
    return Refuse(std::move(record), 401, "PluginInternalError", "Plugin internal error");
  }
  auto jwe = sealer_.Seal(*grant->tee_key, value->view());
  if (!jwe.ok()) {
    record.reasons.push_back("JWE: " + jwe.status().message());
    return Refuse(std::move(record), 401, "JweError", "JWE failed");
  }
  record.allowed = true;
  record.status = 200;
  audit_.Write(record);
  return Json(200, std::move(jwe).value());
}

}  // namespace cvm::rp
