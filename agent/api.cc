#include "agent/api.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/log.h"

namespace cvm::agent {

namespace {

using nlohmann::json;

ApiResponse JsonResponse(int status, const json& body) {
  ApiResponse r;
  r.status = status;
  // Answers quote bytes from outside (a request path, a relying party's error): never throw on
  // bytes that are not UTF-8 (nlohmann's default), which would turn them into a 500.
  r.body = body.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  return r;
}

ApiResponse Error(int status, const std::string& message) {
  return JsonResponse(status, json{{"error", message}});
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (s.size() - i < 3 || HexValue(s[i + 1]) < 0 || HexValue(s[i + 2]) < 0) {
        return InvalidInput("bad percent escape in the query");
      }
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool IsNonceChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

// A caller's nonce: base64url (no padding) or hex. Raw mode needs exactly 64 bytes: 128 hex
// digits or 86 base64url characters, which the lengths tell apart.
Result<Bytes> DecodeNonce(const std::string& nonce) {
  if (nonce.size() == 128) return HexDecode(nonce);
  return Base64UrlDecode(nonce);
}

}  // namespace

Result<std::optional<std::string>> QueryParam(std::string_view query, std::string_view name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    std::string_view part = query.substr(pos, amp == std::string_view::npos ? amp : amp - pos);
    size_t eq = part.find('=');
    std::string_view key = part.substr(0, eq);
    if (key == name) {
      std::string_view value = eq == std::string_view::npos ? "" : part.substr(eq + 1);
      CVM_ASSIGN_OR_RETURN(std::string decoded, PercentDecode(value));
      return std::optional<std::string>(std::move(decoded));
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return std::optional<std::string>();
}

bool ApiAllows(const ResourceConfig& resource, const ApiRequest& request) {
  if (!resource.api) return false;
  if (request.over_tcp) return resource.api->allow_tcp;
  if (!request.peer) return false;
  const auto& a = *resource.api;
  return std::find(a.uids.begin(), a.uids.end(), request.peer->uid) != a.uids.end() ||
         std::find(a.gids.begin(), a.gids.end(), request.peer->gid) != a.gids.end();
}

ApiHandler::ApiHandler(Deps deps) : d_(std::move(deps)) {}

ApiResponse ApiHandler::Handle(const ApiRequest& request) {
  std::string route = "other";
  ApiResponse r;
  try {
    r = Route(request, &route);
  } catch (const std::exception& e) {
    log::Error(std::string("API: internal error: ") + e.what());
    r = Error(500, "internal error");
  }
  d_.metrics->CountRequest(route, r.status);
  return r;
}

ApiResponse ApiHandler::Route(const ApiRequest& request, std::string* route) {
  std::string_view target = request.target;
  size_t q = target.find('?');
  std::string path(target.substr(0, q));
  std::string query(q == std::string_view::npos ? "" : target.substr(q + 1));
  auto method_is = [&](const char* m) { return request.method == m; };
  auto only = [&](const char* m) {
    ApiResponse r = Error(405, "method " + request.method + " not allowed here");
    r.headers.emplace_back("Allow", m);
    return r;
  };

  if (path == "/healthz") {
    *route = path;
    if (!method_is("GET")) return only("GET");
    bool failed = d_.state->phase() == AgentPhase::kFailed;
    ApiResponse r;
    r.status = failed ? 503 : 200;
    r.content_type = "text/plain; charset=utf-8";
    r.body = failed ? "failed\n" : "ok\n";
    return r;
  }
  if (path == "/v1/status") {
    *route = path;
    if (!method_is("GET")) return only("GET");
    return Status_();
  }
  if (path == "/metrics") {
    *route = path;
    if (!method_is("GET")) return only("GET");
    ApiResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = d_.metrics->Render();
    return r;
  }
  if (path == "/v1/evidence" || path == "/aa/evidence") {
    *route = path;
    if (!method_is("GET")) return only("GET");
    return Evidence(query, path == "/aa/evidence");
  }
  if (path == "/v1/attest") {
    *route = path;
    if (!method_is("POST")) return only("POST");
    if (!d_.request_attest) return Error(503, "re-attestation is not available");
    if (d_.config->resources.empty()) {
      return Error(409, "no resources are configured: there is nothing to attest for");
    }
    d_.request_attest();
    return JsonResponse(202,
                        json{{"accepted", true}, {"state", AgentPhaseName(d_.state->phase())}});
  }
  if (path == "/v1/secrets") {
    *route = path;
    if (!method_is("GET")) return only("GET");
    return SecretList(request);
  }
  if (path.starts_with("/v1/secrets/")) {
    *route = "/v1/secrets/{name}";
    if (!method_is("GET")) return only("GET");
    std::string name = path.substr(std::string("/v1/secrets/").size());
    return Secret(request, d_.config->FindResource(name), "resource '" + name + "'");
  }
  if (path.starts_with("/cdh/resource/")) {
    *route = "/cdh/resource/{repo}/{type}/{tag}";
    if (!method_is("GET")) return only("GET");
    std::string rpath = path.substr(std::string("/cdh/resource/").size());
    const ResourceConfig* found = nullptr;
    for (const auto& r : d_.config->resources) {
      if (r.path == rpath) found = &r;
    }
    return Secret(request, found, "resource path '" + rpath + "'");
  }
  if (path == "/v1/luks/key") {
    *route = path;
    if (!method_is("POST")) return only("POST");
    return LuksKey(request);
  }
  if (path == "/v1/luks/provision") {
    *route = path;
    if (!method_is("POST")) return only("POST");
    return LuksProvision(request);
  }
  if (path == "/aa/token") {
    *route = path;
    if (!method_is("GET")) return only("GET");
    auto type = QueryParam(query, "token_type");
    if (!type.ok() || !type->has_value() || **type != "kbs") {
      return Error(400, "token_type must be kbs");
    }
    // The token is a bearer credential at the relying party: only callers that may read at
    // least one resource through the API get it. Never the TEE private key (CoCo returns it).
    bool allowed = false;
    for (const auto& r : d_.config->resources) allowed = allowed || ApiAllows(r, request);
    if (!allowed) return Error(403, "not allowed to read the attestation token");
    std::string token = d_.token ? d_.token() : "";
    if (token.empty()) return Error(503, "no attestation token yet");
    ApiResponse r = JsonResponse(200, json{{"token", token}});
    r.secret = true;
    return r;
  }
  *route = "other";
  return Error(404, "no such endpoint: " + path);
}

ApiResponse ApiHandler::Status_() {
  return JsonResponse(200, d_.state->StatusJson(d_.clock->Now()));
}

ApiResponse ApiHandler::Evidence(const std::string& query, bool coco) {
  if (d_.evidence == nullptr) return Error(503, "evidence collection is not available");
  EvidenceRequest req;
  if (coco) {
    // CoCo's API server: runtime_data is text, or URL-safe base64 (no padding) with
    // encoding=base64; it becomes REPORT_DATA zero-padded to 64 bytes, as CoCo's attester does.
    auto data = QueryParam(query, "runtime_data");
    auto encoding = QueryParam(query, "encoding");
    if (!data.ok() || !encoding.ok()) return Error(400, "malformed query");
    if (!data->has_value()) return Error(400, "runtime_data is required");
    Bytes bytes(data->value().begin(), data->value().end());
    if (encoding->has_value()) {
      if (**encoding != "base64") return Error(400, "encoding must be base64");
      auto decoded = Base64UrlDecode(data->value());
      if (!decoded.ok()) return Error(400, "runtime_data: " + decoded.status().message());
      bytes = *decoded;
    }
    if (bytes.size() > 64) return Error(400, "runtime_data is longer than 64 bytes");
    std::array<uint8_t, 64> rd{};
    std::copy(bytes.begin(), bytes.end(), rd.begin());
    req.report_data = rd;
  } else {
    auto nonce = QueryParam(query, "nonce");
    auto raw = QueryParam(query, "raw");
    if (!nonce.ok() || !raw.ok()) return Error(400, "malformed query");
    if (!nonce->has_value()) return Error(400, "nonce is required (base64url or hex)");
    const std::string& n = **nonce;
    if (n.size() < 8 || n.size() > 512 || !std::all_of(n.begin(), n.end(), IsNonceChar)) {
      return Error(400, "nonce must be 8 to 512 base64url or hex characters");
    }
    bool raw_mode = raw->has_value() && (**raw == "1" || **raw == "true");
    if (raw->has_value() && !raw_mode && **raw != "0" && **raw != "false") {
      return Error(400, "raw must be 1 or 0");
    }
    if (raw_mode) {
      auto bytes = DecodeNonce(n);
      if (!bytes.ok()) return Error(400, "nonce: " + bytes.status().message());
      if (bytes->size() != 64) {
        return Error(400,
                     "raw=1 needs exactly 64 bytes of nonce (128 hex digits or 86 base64url "
                     "characters), got " +
                         std::to_string(bytes->size()));
      }
      std::array<uint8_t, 64> rd{};
      std::copy(bytes->begin(), bytes->end(), rd.begin());
      req.report_data = rd;
    } else {
      req.runtime_data = json{{"nonce", n}};
    }
  }
  auto bundle = d_.evidence->Collect(req);
  if (!bundle.ok()) {
    int code = bundle.status().code() == Code::kInvalidInput ? 400 : 503;
    return Error(code, "evidence: " + bundle.status().ToString());
  }
  ApiResponse r;
  r.content_type = coco ? "application/octet-stream" : "application/json";
  r.body = std::move(*bundle);
  return r;
}

ApiResponse ApiHandler::Secret(const ApiRequest& request, const ResourceConfig* resource,
                               const std::string& what) {
  if (resource == nullptr) return Error(404, "no " + what);
  if (!ApiAllows(*resource, request)) {
    std::string who = request.over_tcp ? "TCP callers"
                      : request.peer   ? "uid " + std::to_string(request.peer->uid) + " gid " +
                                           std::to_string(request.peer->gid)
                                     : "this caller";
    log::Notice("API: refused " + what + " to " + who);
    return Error(403, what + " is not readable by " + who);
  }
  auto secret = d_.secrets->Get(resource->name);
  if (!secret) return Error(503, what + " has not been delivered yet");
  ApiResponse r;
  r.content_type = "application/octet-stream";
  r.body.assign(AsChars(secret->view()));
  r.secret = true;
  return r;
}

ApiResponse ApiHandler::LuksKey(const ApiRequest& request) {
  // Disk keys go to root only (the token plugin runs inside cryptsetup / systemd-cryptsetup),
  // and never over TCP, where there are no peer credentials.
  if (request.over_tcp || !request.peer || request.peer->uid != 0) {
    std::string who = request.over_tcp ? "TCP callers"
                      : request.peer   ? "uid " + std::to_string(request.peer->uid)
                                       : "this caller";
    log::Notice("API: refused a LUKS key to " + who);
    return Error(403, "LUKS keys are served to root on the unix socket only, not to " + who);
  }
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return Error(400, "the body must be a JSON object {\"resource\", \"uuid\", \"ciphers\"}");
  }
  for (const auto& [k, v] : body.items()) {
    if (k != "resource" && k != "uuid" && k != "ciphers") {
      return Error(400, "unknown key '" + k.substr(0, 64) + "'");
    }
  }
  if (!body.contains("resource") || !body["resource"].is_string()) {
    return Error(400, "resource (a string) is required");
  }
  if (!body.contains("uuid") || !body["uuid"].is_string()) {
    return Error(400, "uuid (the volume's LUKS UUID) is required");
  }
  if (!body.contains("ciphers") || !body["ciphers"].is_array()) {
    return Error(400, "ciphers (the header's keyslot and segment ciphers) is required");
  }
  const std::string name = body["resource"].get<std::string>();
  const ResourceConfig* resource = d_.config->FindResource(name);
  std::string what = "resource '" + name.substr(0, 128) + "'";
  if (resource == nullptr) return Error(404, "no " + what);
  if (!resource->cryptsetup || resource->cryptsetup->uuid.empty()) {
    log::Notice("API: refused " + what + " to a LUKS volume: it has no sinks.cryptsetup.uuid");
    return Error(403, what + " is not configured for any LUKS volume (sinks.cryptsetup.uuid)");
  }
  std::string uuid = body["uuid"].get<std::string>().substr(0, 64);
  std::transform(uuid.begin(), uuid.end(), uuid.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (uuid != resource->cryptsetup->uuid) {
    log::Notice("API: refused " + what + " to LUKS volume " + uuid + ": configured for " +
                resource->cryptsetup->uuid);
    return Error(403, what + " is configured for volume " + resource->cryptsetup->uuid +
                          ", not for volume " + uuid);
  }
  const auto& allowed = d_.config->luks.allowed_ciphers;
  for (const auto& c : body["ciphers"]) {
    if (!c.is_string()) return Error(400, "ciphers must be strings");
    const std::string& cipher = c.get_ref<const std::string&>();
    if (cipher.find("null") != std::string::npos ||
        std::find(allowed.begin(), allowed.end(), cipher) == allowed.end()) {
      std::string shown = cipher.substr(0, 64);
      log::Notice("API: refused " + what + " to LUKS volume " + uuid + ": cipher " + shown);
      return Error(403, "volume " + uuid + " uses cipher " + shown +
                            ", which luks.allowed_ciphers does not allow");
    }
  }
  auto secret = d_.secrets->Get(resource->name);
  if (!secret && resource->per_vm()) {
    auto states = d_.state->resources();
    auto st = states.find(resource->name);
    if (st != states.end() && st->second.state == DeliveryState::kNotProvisioned) {
      // Final, not "retry": nothing will appear until someone provisions it.
      log::Notice("API: no key of " + what + " for LUKS volume " + uuid +
                  ": the relying party holds none for this VM");
      return Error(404, what +
                            " has not been provisioned for this VM (the relying party holds "
                            "no value for it): run cvmctl luks provision");
    }
  }
  if (!secret) {
    AgentPhase phase = d_.state->phase();
    std::string text = what + " has not been delivered yet (state: " + AgentPhaseName(phase);
    auto last = d_.state->last_result();
    if (last && !last->ok && !last->reasons.empty()) {
      text += "; last attestation: ";
      for (size_t i = 0; i < last->reasons.size(); ++i) {
        text += (i ? "; " : "") + last->reasons[i];
      }
    }
    text += ")";
    // A daemon that is ready but lacks this key (a refresh that dropped it) attests again; one
    // that is still starting or retrying is already on it.
    if ((phase == AgentPhase::kReady) && d_.request_attest) d_.request_attest();
    ApiResponse r = Error(503, text);
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  log::Info("API: handed the key of " + what + " to LUKS volume " + uuid + " (pid " +
            std::to_string(request.peer->pid) + ")");
  ApiResponse r;
  r.content_type = "application/octet-stream";
  r.body.assign(AsChars(secret->view()));
  r.secret = true;
  return r;
}

ApiResponse ApiHandler::LuksProvision(const ApiRequest& request) {
  // Creates a disk key at the relying party: root on the unix socket only, as LuksKey.
  if (request.over_tcp || !request.peer || request.peer->uid != 0) {
    std::string who = request.over_tcp ? "TCP callers"
                      : request.peer   ? "uid " + std::to_string(request.peer->uid)
                                       : "this caller";
    log::Notice("API: refused to provision a LUKS key for " + who);
    return Error(403, "LUKS keys are provisioned for root on the unix socket only, not for " + who);
  }
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || body.size() != 1 || !body.contains("resource") ||
      !body["resource"].is_string()) {
    return Error(400, "the body must be a JSON object {\"resource\": NAME}");
  }
  const std::string name = body["resource"].get<std::string>();
  const ResourceConfig* resource = d_.config->FindResource(name);
  std::string what = "resource '" + name.substr(0, 128) + "'";
  if (resource == nullptr) return Error(404, "no " + what);
  if (!resource->per_vm()) {
    return Error(400, what + " is not a per-VM resource (its path is " + resource->path +
                          "; provisioning needs {vm_id}/type/tag)");
  }
  if (!resource->cryptsetup || resource->cryptsetup->uuid.empty()) {
    return Error(400, what + " is not configured for a LUKS volume (sinks.cryptsetup.uuid)");
  }
  if (!d_.provision) return Error(503, "provisioning is not available");
  auto done = d_.provision(name);
  if (!done.ok()) {
    int status = done.status().code() == Code::kRejected   ? 403
                 : done.status().code() == Code::kNotFound ? 404
                                                           : 502;
    return Error(status, "provisioning " + what + ": " + done.status().ToString());
  }
  log::Info("API: provisioned " + what + " for LUKS volume " + resource->cryptsetup->uuid + " (" +
            (done->first ? "new key" : "the relying party already held one") + ", pid " +
            std::to_string(request.peer->pid) + ")");
  return JsonResponse(200, json{{"resource", name},
                                {"uuid", resource->cryptsetup->uuid},
                                {"created", done->first},
                                {"relying_party", done->second}});
}

ApiResponse ApiHandler::SecretList(const ApiRequest& request) {
  json list = json::array();
  auto resources = d_.state->resources();
  for (const auto& r : d_.config->resources) {
    json sinks = json::array();
    if (r.file) sinks.push_back("file");
    if (r.credential) sinks.push_back("credential");
    if (r.cryptsetup) sinks.push_back("cryptsetup");
    if (r.api) sinks.push_back("api");
    list.push_back({{"name", r.name},
                    {"path", r.path},
                    {"sinks", sinks},
                    {"delivered", d_.secrets->Has(r.name)},
                    {"readable_by_you", ApiAllows(r, request)}});
  }
  return JsonResponse(200, json{{"secrets", list}});
}

}  // namespace cvm::agent
