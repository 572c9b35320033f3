#include "luks/agent_client.h"

#include <stdlib.h>

#include <nlohmann/json.hpp>
#include <thread>

namespace cvm::luks {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string ErrorText(const HttpResponse& r) {
  json j = json::parse(AsChars(r.body), nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) {
    return j["error"].get<std::string>().substr(0, 1024);
  }
  return "HTTP " + std::to_string(r.status);
}

}  // namespace

std::string AgentSocketPath() {
  const char* env = ::secure_getenv(kAgentSocketEnv);
  return env != nullptr && *env != '\0' ? std::string(env) : std::string(kDefaultAgentSocket);
}

Result<SecretBytes> FetchVolumeKey(HttpClient& http, const VolumeKeyRequest& request) {
  json body = {
      {"resource", request.resource}, {"uuid", request.uuid}, {"ciphers", request.ciphers}};
  std::string body_text = body.dump();
  HttpRequest req;
  req.method = "POST";
  req.url = "http://localhost/v1/luks/key";
  req.unix_socket = request.socket;
  req.headers = {{"Content-Type", "application/json"}};
  req.body.assign(body_text.begin(), body_text.end());
  req.max_response_bytes = 64 << 10;

  const auto end = Clock::now() + request.timeout;
  std::string last = "the agent was not asked";
  std::string agent_said;  // the agent's last answer, kept past later connection failures
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
    if (left.count() <= 0) break;
    req.timeout = left;
    req.connect_timeout = left;
    auto resp = http.Send(req);
    if (!resp.ok()) {
      last = "cannot reach cvm-agentd at " + request.socket + ": " + resp.status().message();
    } else if (resp->status == 200) {
      if (resp->body.empty()) return Internal("cvm-agentd answered with an empty key");
      return SecretBytes(std::move(resp->body));
    } else if (resp->status == 503) {
      agent_said = ErrorText(*resp);
      last = "cvm-agentd: " + agent_said;
    } else {
      std::string text =
          "cvm-agentd refused the key for resource '" + request.resource + "': " + ErrorText(*resp);
      if (resp->status == 403) return PermissionDenied(text);
      if (resp->status == 404) return NotFound(text);
      if (resp->status == 400) return InvalidInput(text);
      return Unavailable(text);
    }
    auto pause =
        std::min(request.retry_interval,
                 std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()));
    if (pause.count() > 0) std::this_thread::sleep_for(pause);
  }
  const auto ms = request.timeout.count();
  std::string within =
      ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
  std::string msg = "no key for resource '" + request.resource + "' from cvm-agentd within " +
                    within + ": " + last;
  if (!agent_said.empty() && last.find(agent_said) == std::string::npos) {
    msg += " (the agent's last answer: " + agent_said + ")";
  }
  return DeadlineExceeded(msg);
}

Result<ProvisionAnswer> ProvisionVolumeKey(HttpClient& http, const std::string& socket,
                                           const std::string& resource,
                                           std::chrono::milliseconds timeout) {
  std::string body = json{{"resource", resource}}.dump();
  HttpRequest req;
  req.method = "POST";
  req.url = "http://localhost/v1/luks/provision";
  req.unix_socket = socket;
  req.headers = {{"Content-Type", "application/json"}};
  req.body.assign(body.begin(), body.end());
  req.max_response_bytes = 64 << 10;
  const auto end = Clock::now() + timeout;
  std::string last = "the agent was not asked";
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
    if (left.count() <= 0) break;
    req.timeout = left;
    req.connect_timeout = left;
    auto resp = http.Send(req);
    if (!resp.ok()) {
      last = "cannot reach cvm-agentd at " + socket + ": " + resp.status().message();
      std::this_thread::sleep_for(
          std::min(std::chrono::milliseconds(250),
                   std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now())));
      continue;
    }
    if (resp->status != 200) {
      std::string text =
          "cvm-agentd did not provision resource '" + resource + "': " + ErrorText(*resp);
      if (resp->status == 403) return PermissionDenied(text);
      if (resp->status == 404) return NotFound(text);
      if (resp->status == 400) return InvalidInput(text);
      return Unavailable(text);
    }
    json j = json::parse(AsChars(resp->body), nullptr, false);
    if (!j.is_object() || !j.contains("uuid") || !j["uuid"].is_string() || !j.contains("created") ||
        !j["created"].is_boolean()) {
      return InvalidInput("cvm-agentd: malformed answer to /v1/luks/provision");
    }
    ProvisionAnswer out;
    out.uuid = j["uuid"].get<std::string>();
    out.created = j["created"].get<bool>();
    if (j.contains("relying_party") && j["relying_party"].is_string()) {
      out.relying_party = j["relying_party"].get<std::string>();
    }
    return out;
  }
  return DeadlineExceeded("no answer from cvm-agentd within " +
                          std::to_string(timeout.count() / 1000) + " s: " + last);
}

}  // namespace cvm::luks
