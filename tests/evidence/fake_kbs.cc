#include "tests/evidence/fake_kbs.h"

#include <openssl/rand.h>

#include <cstdlib>

#include "common/encoding.h"
#include "evidence/jose.h"

namespace cvm::testing {
namespace {

using evidence::MakeKbsError;
using nlohmann::json;

HttpResponse Json(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("content-type", "application/json");
  std::string text = body.dump();
  r.body.assign(text.begin(), text.end());
  return r;
}

// Trustee's error responses (kbs/src/error.rs): no Content-Type, {type, detail}.
HttpResponse Error(int status, std::string_view variant, std::string_view detail) {
  HttpResponse r;
  r.status = status;
  std::string text = ToJson(MakeKbsError(variant, detail)).dump();
  r.body.assign(text.begin(), text.end());
  return r;
}

HttpResponse AttestFailed() {
  return Error(401, "AttestationError", "Attestation error: RCAR handshake Attest failed");
}

std::string RequestCookie(const HttpRequest& request) {
  for (const auto& [k, v] : request.headers) {
    if (k == "Cookie") return v;
  }
  return "";
}

Bytes Random(size_t n) {
  Bytes b(n);
  if (RAND_bytes(b.data(), static_cast<int>(n)) != 1) std::abort();
  return b;
}

}  // namespace

FakeKbs::FakeKbs(std::string base_url, const Clock* clock)
    : base_url_(std::move(base_url)), clock_(clock) {
  auto key = evidence::LoadTokenSigningKey("");
  if (key.ok()) token_key_ = std::move(key).value();
}

HttpResponse FakeKbs::Handle(const HttpRequest& request) {
  std::string path = request.url.substr(base_url_.size());
  log.push_back(request.method + " " + path);
  cookies_seen.push_back(RequestCookie(request));
  if (fail_status != 0) {
    return Error(fail_status, "InternalError", "the fake relying party was told to fail");
  }
  if (garbage) {
    HttpResponse r;
    r.status = 200;
    std::string text = "<html>proxy login</html>";
    r.body.assign(text.begin(), text.end());
    return r;
  }
  if (request.method == "POST" && path == "/kbs/v0/auth") return Auth(request);
  if (request.method == "POST" && path == "/kbs/v0/attest") return Attest(request);
  constexpr std::string_view kResource = "/kbs/v0/resource/";
  if (request.method == "GET" && path.starts_with(kResource)) {
    return Resource(request, path.substr(kResource.size()));
  }
  std::string plugin = path.substr(std::string_view("/kbs/v0/").size());
  plugin = plugin.substr(0, plugin.find('/'));
  return Error(404, "PluginNotFound", "Plugin " + plugin + " not found");
}

HttpResponse FakeKbs::Auth(const HttpRequest& request) {
  auto req = evidence::ParseKbsRequest(AsChars(request.body));
  if (!req.ok() || !evidence::ParseTeeKind(req->tee).ok()) {
    return Error(401, "AttestationError",
                 "Attestation error: RCAR handshake Auth failed: deserialize Request");
  }
  if (req->version != evidence::kKbsProtocolVersion) {
    return Error(401, "AttestationError",
                 "Attestation error: RCAR handshake Auth failed: KBS Client Protocol Version "
                 "Mismatch: expect =0.4.0 while the request is " +
                     req->version);
  }
  Session session;
  session.nonce = Base64Encode(Random(32));
  session.tee = req->tee;
  session.hash = select_hash.value_or(DigestAlg::kSha384);
  std::string id = HexEncode(Random(16));
  sessions_[id] = session;
  evidence::KbsChallenge challenge{session.nonce, select_hash};
  HttpResponse r = Json(200, ToJson(challenge));
  if (!omit_cookie) {
    r.headers.emplace_back("set-cookie", std::string(evidence::kKbsSessionCookie) + "=" + id +
                                             "; Expires=Sun, 29 Nov 2026 23:59:59 GMT");
  }
  return r;
}

HttpResponse FakeKbs::Attest(const HttpRequest& request) {
  // Trustee's order (backend.rs __attest): cookie, parse, session, already attested, nonce,
  // binding, verification.
  auto id = evidence::SessionIdFromCookieHeader(RequestCookie(request));
  if (!id) return AttestFailed();
  auto att = evidence::ParseKbsAttestation(AsChars(request.body));
  if (!att.ok()) return AttestFailed();
  auto it = sessions_.find(*id);
  if (it == sessions_.end()) return AttestFailed();
  Session& session = it->second;
  HttpResponse ok_response;
  if (session.attested) {
    ok_response = Json(200, evidence::TokenResponseJson(session.token));
  } else {
    if (att->nonce != session.nonce) return AttestFailed();
    auto key = evidence::ParseTeePublicJwk(att->tee_pubkey);
    if (!key.ok()) return AttestFailed();
    auto digest = evidence::RuntimeDataDigest(session.hash, session.nonce, key->jwk,
                                              att->additional_evidence);
    if (!digest.ok()) return AttestFailed();
    auto rd = att->primary_evidence.find("report_data");
    if (rd == att->primary_evidence.end() || !rd->is_string() ||
        rd->get<std::string>() != HexEncode(evidence::PadReportData(*digest))) {
      return AttestFailed();
    }
    int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(clock_->Now().time_since_epoch()).count();
    json claims{{"iat", now},
                {"exp", now + 300},
                {"iss", "CoCo-Attestation-Service"},
                {"submods",
                 {{"cpu0",
                   {{"ear.status", "affirming"},
                    {"ear.veraison.annotated-evidence",
                     {{"runtime_data_claims", {{"tee-pubkey", key->jwk}}}}}}}}}};
    auto token = evidence::SignJwt(token_key_.get(), claims);
    if (!token.ok()) return AttestFailed();
    session.attested = true;
    session.token = *token;
    session.tee_pubkey = key->jwk;
    ++attestations;
    ok_response = Json(200, evidence::TokenResponseJson(session.token));
  }
  ok_response.headers.emplace_back("set-cookie", std::string(evidence::kKbsSessionCookie) + "=" +
                                                     *id +
                                                     "; Expires=Sun, 29 Nov 2026 23:59:59 GMT");
  return ok_response;
}

HttpResponse FakeKbs::Resource(const HttpRequest& request, const std::string& path) {
  auto id = evidence::SessionIdFromCookieHeader(RequestCookie(request));
  auto it = id ? sessions_.find(*id) : sessions_.end();
  if (it == sessions_.end() || !it->second.attested) {
    return Error(401, "TokenNotFound", "Attestation Token not found");
  }
  for (const auto& d : denied) {
    if (d == path) return Error(401, "PolicyDeny", "Access denied by policy");
  }
  auto res = resources.find(path);
  if (res == resources.end() || !evidence::ValidateResourcePath(path).ok()) {
    return Error(401, "PluginInternalError", "Plugin internal error");
  }
  auto key = evidence::ParseTeePublicJwk(it->second.tee_pubkey);
  if (!key.ok()) return Error(401, "JweError", "JWE failed");
  auto jwe = evidence::EncryptJwe(*key, AsBytes(res->second));
  if (!jwe.ok()) return Error(401, "JweError", "JWE failed");
  HttpResponse r;
  r.status = 200;
  r.headers.emplace_back("content-type", "application/json");
  r.body.assign(jwe->begin(), jwe->end());
  return r;
}

Result<HttpResponse> FakeKbsNetwork::Send(const HttpRequest& request) {
  for (FakeKbs* kbs : servers_) {
    if (!request.url.starts_with(kbs->base_url() + "/")) continue;
    if (kbs->unreachable) {
      kbs->log.push_back("unreachable");
      return Unavailable(request.url + ": Couldn't connect to server");
    }
    HttpResponse response = kbs->Handle(request);
    if (response.body.size() > request.max_response_bytes) {
      return InvalidInput(request.url + ": response too large");
    }
    return response;
  }
  return Unavailable(request.url + ": Couldn't resolve host name");
}

evidence::KbsEvidenceProvider FakeEvidenceProvider() {
  return [](const evidence::KbsChallenge& challenge, const nlohmann::json& jwk,
            DigestAlg hash) -> Result<evidence::KbsEvidence> {
    CVM_ASSIGN_OR_RETURN(Bytes digest, evidence::RuntimeDataDigest(hash, challenge.nonce, jwk, ""));
    evidence::KbsEvidence ev;
    ev.primary_evidence = json{{"report_data", HexEncode(evidence::PadReportData(digest))}};
    return ev;
  };
}

}  // namespace cvm::testing
