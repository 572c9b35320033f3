#include "evidence/kbs_client.h"

#include <algorithm>

namespace cvm::evidence {
namespace {

using nlohmann::json;

constexpr std::string_view kAuthPath = "/kbs/v0/auth";
constexpr std::string_view kAttestPath = "/kbs/v0/attest";
constexpr std::string_view kResourcePath = "/kbs/v0/resource/";

// Whether another relying party should be tried after `s`: it could not be reached, timed out,
// failed on its side (5xx -> kUnavailable) or did not speak the protocol (kInvalidInput).
bool FailOver(const Status& s) {
  return s.code() == Code::kUnavailable || s.code() == Code::kDeadlineExceeded ||
         s.code() == Code::kInvalidInput;
}

// Text from the server, made safe to print: control characters replaced, length bounded.
std::string Printable(std::string_view text, size_t max = 300) {
  std::string out;
  for (char c : text.substr(0, max)) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
  }
  if (text.size() > max) out += "...";
  return out;
}

std::string BaseUrl(std::string_view url) {
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  return std::string(url);
}

// The kbs-session-id from any Set-Cookie header of `response`; nullopt when none.
Result<std::optional<std::string>> SessionCookie(const HttpResponse& response) {
  for (const auto& [name, value] : response.headers) {
    if (name != "set-cookie") continue;
    CVM_ASSIGN_OR_RETURN(std::optional<std::string> id, SessionIdFromSetCookie(value));
    if (id) return id;
  }
  return std::optional<std::string>();
}

}  // namespace

KbsClient::KbsClient(HttpClient& http, KbsClientOptions options, KbsEvidenceProvider evidence)
    : http_(http), options_(std::move(options)), evidence_(std::move(evidence)) {}

void KbsClient::EndSession() { session_.reset(); }

Result<HttpResponse> KbsClient::Send(const KbsEndpoint& endpoint, std::string method,
                                     std::string path, const std::string& session_id,
                                     std::string body) {
  HttpRequest req;
  req.method = std::move(method);
  req.url = BaseUrl(endpoint.url) + path;
  req.headers.emplace_back("Accept", "application/json");
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  // The one cookie of the protocol, sent explicitly (no cookie jar).
  if (!session_id.empty()) {
    req.headers.emplace_back("Cookie", std::string(kKbsSessionCookie) + "=" + session_id);
  }
  req.body.assign(body.begin(), body.end());
  req.timeout = options_.timeout;
  req.connect_timeout = options_.connect_timeout;
  req.max_response_bytes = options_.max_response_bytes;
  req.ca_file = endpoint.ca_file;
  req.pinned_spki_sha256 = endpoint.pinned_spki_sha256;
  req.proxy = endpoint.proxy;
  return http_.Send(req);
}

Status KbsClient::HttpError(const KbsEndpoint& endpoint, std::string_view step,
                            const HttpResponse& response) const {
  std::string msg = BaseUrl(endpoint.url) + ": " + std::string(step) + ": HTTP " +
                    std::to_string(response.status);
  auto error = ParseKbsError(AsChars(response.body));
  if (error.ok()) {
    // Appended piece by piece: GCC 12 -O3 reports a false -Wrestrict on " " + std::string.
    msg.append(" ").append(Printable(error->Variant())).append(": ");
    msg.append(Printable(error->detail));
  } else {
    msg += " (no RFC 7807 error body)";
  }
  if (std::string reason = response.Header(kKbsReasonHeader); !reason.empty()) {
    msg += " (relying party's reason: " + Printable(reason) + ")";
  }
  if (response.status == 401) return Rejected(msg);
  if (response.status == 404) return NotFound(msg);
  return Unavailable(msg);
}

Result<KbsClient::Session> KbsClient::AttestAt(size_t index, bool* local_failure) {
  *local_failure = false;
  const KbsEndpoint& endpoint = options_.endpoints[index];
  std::string where = BaseUrl(endpoint.url);

  KbsRequest request;
  request.tee = std::string(TeeKindName(options_.tee));
  for (DigestAlg alg : options_.supported_hashes) {
    request.supported_hash_algorithms.emplace_back(KbsHashAlgorithmName(alg));
  }
  CVM_ASSIGN_OR_RETURN(HttpResponse auth,
                       Send(endpoint, "POST", std::string(kAuthPath), "", ToJson(request).dump()));
  if (auth.status != 200) return HttpError(endpoint, "auth", auth);
  CVM_ASSIGN_OR_RETURN(KbsChallenge challenge,
                       ParseKbsChallenge(AsChars(auth.body)).WithContext(where));
  CVM_ASSIGN_OR_RETURN(std::optional<std::string> cookie,
                       SessionCookie(auth).WithContext(where + ": auth"));
  if (!cookie) return InvalidInput(where + ": auth: no kbs-session-id cookie in the response");
  DigestAlg hash = challenge.selected_hash.value_or(DigestAlg::kSha384);
  if (challenge.selected_hash &&
      std::find(options_.supported_hashes.begin(), options_.supported_hashes.end(), hash) ==
          options_.supported_hashes.end()) {
    return InvalidInput(where + ": challenge selects " + std::string(KbsHashAlgorithmName(hash)) +
                        ", which was not offered");
  }

  Session session;
  session.endpoint = index;
  session.session_id = std::move(*cookie);
  CVM_ASSIGN_OR_RETURN(TeeKeyPair key, TeeKeyPair::Generate(options_.key_type));
  session.key.emplace(std::move(key));
  json jwk = session.key->PublicJwk();
  auto evidence = evidence_(challenge, jwk, hash);
  if (!evidence.ok()) {
    // Not the relying party's fault: another one would get the same evidence.
    *local_failure = true;
    return evidence.status().WithContext("evidence");
  }
  KbsAttestation attestation;
  attestation.init_data = evidence->init_data;
  attestation.nonce = challenge.nonce;
  attestation.tee_pubkey = jwk;
  attestation.primary_evidence = std::move(evidence->primary_evidence);
  attestation.additional_evidence = std::move(evidence->additional_evidence);
  std::string body = ToJson(attestation).dump();
  CVM_ASSIGN_OR_RETURN(HttpResponse attest, Send(endpoint, "POST", std::string(kAttestPath),
                                                 session.session_id, std::move(body)));
  if (attest.status != 200) return HttpError(endpoint, "attest", attest);
  CVM_ASSIGN_OR_RETURN(std::optional<std::string> renewed,
                       SessionCookie(attest).WithContext(where + ": attest"));
  if (renewed) session.session_id = std::move(*renewed);
  CVM_ASSIGN_OR_RETURN(std::string token,
                       ParseKbsTokenResponse(AsChars(attest.body)).WithContext(where));
  Result<Jwt> jwt = options_.token_key != nullptr
                        ? VerifyJwt(token, options_.token_key, options_.clock->Now())
                        : DecodeJwt(token);
  if (!jwt.ok()) return jwt.status().WithContext(where + ": attestation token");
  session.token.token = std::move(token);
  session.token.jwt = std::move(jwt).value();
  session.token.url = where;
  if (auto exp = session.token.jwt.claims.find("exp"); exp != session.token.jwt.claims.end()) {
    session.token.expires = TimePoint(std::chrono::seconds(exp->get<int64_t>()));
  }
  return session;
}

Result<KbsToken> KbsClient::Attest() {
  EndSession();
  std::string failures;
  for (size_t i = 0; i < options_.endpoints.size(); ++i) {
    bool local = false;
    auto session = AttestAt(i, &local);
    if (session.ok()) {
      session_ = std::move(session).value();
      return session_->token;
    }
    if (local || !FailOver(session.status())) return session.status();
    failures += (failures.empty() ? "" : "; ") + session.status().ToString();
  }
  return Unavailable("no relying party attested us: " + failures);
}

Result<SecretBytes> KbsClient::FetchWith(Session& session, std::string_view path,
                                         int* http_status) {
  const KbsEndpoint& endpoint = options_.endpoints[session.endpoint];
  *http_status = 0;
  CVM_ASSIGN_OR_RETURN(HttpResponse response,
                       Send(endpoint, "GET", std::string(kResourcePath) + std::string(path),
                            session.session_id, ""));
  *http_status = response.status;
  if (response.status != 200) return HttpError(endpoint, "resource", response);
  return session.key->Decrypt(AsChars(response.body))
      .WithContext(BaseUrl(endpoint.url) + ": resource " + std::string(path));
}

Result<SecretBytes> KbsClient::GetResource(std::string_view path) {
  CVM_RETURN_IF_ERROR(ValidateResourcePath(path));
  return WithSession(path, [&](Session& session, int* http_status) {
    return FetchWith(session, path, http_status);
  });
}

Result<SecretBytes> KbsClient::WithSession(
    std::string_view what, const std::function<Result<SecretBytes>(Session&, int*)>& fetch) {
  if (session_ && session_->token.expires && options_.clock->Now() >= *session_->token.expires) {
    EndSession();
  }
  std::string failures;
  size_t start = session_ ? session_->endpoint : 0;
  for (size_t i = start; i < options_.endpoints.size(); ++i) {
    auto note = [&](const Status& s) { failures += (failures.empty() ? "" : "; ") + s.ToString(); };
    bool local = false;  // the failure was ours (evidence): no other relying party helps
    auto attest = [&]() -> Status {
      EndSession();
      auto session = AttestAt(i, &local);
      if (!session.ok()) return session.status();
      session_ = std::move(session).value();
      return Status::Ok();
    };
    if (!session_ || session_->endpoint != i) {
      Status s = attest();
      if (!s.ok()) {
        if (local || !FailOver(s)) return s;
        note(s);
        continue;
      }
    }
    int status = 0;
    auto secret = fetch(*session_, &status);
    if (secret.ok()) return secret;
    if (status == 401) {
      // The session or its token is no longer accepted: re-attest once, then report.
      Status s = attest();
      if (!s.ok()) {
        if (local || !FailOver(s)) return s;
        note(s);
        continue;
      }
      secret = fetch(*session_, &status);
      if (secret.ok() || !FailOver(secret.status())) return secret;
    } else if (!FailOver(secret.status())) {
      return secret;
    }
    note(secret.status());
    EndSession();
  }
  return Unavailable("no relying party released " + std::string(what) + ": " + failures);
}

Result<VmResourceValue> KbsClient::VmResource(std::string_view type_tag, bool create) {
  CVM_RETURN_IF_ERROR(ValidateVmResourceTypeTag(type_tag));
  std::string path = "/kbs/v0/" + std::string(kVmResourcePlugin) + "/" + std::string(type_tag);
  std::string what = std::string(kVmIdPlaceholder) + "/" + std::string(type_tag);
  bool not_found = false;
  bool created = false;
  auto fetch = [&](Session& session, int* http_status) -> Result<SecretBytes> {
    const KbsEndpoint& endpoint = options_.endpoints[session.endpoint];
    *http_status = 0;
    not_found = false;
    CVM_ASSIGN_OR_RETURN(HttpResponse response, Send(endpoint, create ? "POST" : "GET", path,
                                                     session.session_id, create ? "{}" : ""));
    *http_status = response.status;
    if (!create && response.status == 404) {
      auto error = ParseKbsError(AsChars(response.body));
      if (error.ok() && error->Variant() == kVmResourceNotFound) {
        not_found = true;
        return NotFound(what + ": not provisioned for this VM");
      }
    }
    if (response.status != 200 && !(create && response.status == 201)) {
      return HttpError(endpoint, create ? "vm-resource (create)" : "vm-resource", response);
    }
    created = response.status == 201;
    return session.key->Decrypt(AsChars(response.body))
        .WithContext(BaseUrl(endpoint.url) + ": vm-resource " + what);
  };
  auto secret = WithSession(what, fetch);
  VmResourceValue out;
  if (!secret.ok()) {
    if (not_found && secret.status().code() == Code::kNotFound) return out;
    return secret.status();
  }
  out.value = std::move(secret).value();
  out.created = created;
  return out;
}

}  // namespace cvm::evidence
