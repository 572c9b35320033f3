#include "luks/agent_client.h"

#include <stdlib.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
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

// What asking the agent until it answers gave.
struct Asked {
  std::optional<HttpResponse> answer;  // the answer to act on; nullopt: the deadline passed
  std::string last = "the agent was not asked";  // why the last attempt gave no such answer
  std::string agent_said;  // the agent's last "not yet" answer, kept past later failures
};

// Sends `req` to the agent at `socket` until it answers with a status other than `not_yet`
// (0: every answer counts) or `timeout` passes, pausing `pause` after each attempt that gave
// none (no connection, or `not_yet`).
Asked AskAgent(HttpClient& http, HttpRequest req, const std::string& socket,
               std::chrono::milliseconds timeout, std::chrono::milliseconds pause, int not_yet) {
  const auto end = Clock::now() + timeout;
  auto left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
  };
  Asked asked;
  while (left().count() > 0) {
    req.timeout = left();
    req.connect_timeout = req.timeout;
    auto resp = http.Send(req);
    if (!resp.ok()) {
      asked.last = "cannot reach cvm-agentd at " + socket + ": " + resp.status().message();
    } else if (not_yet != 0 && resp->status == not_yet) {
      asked.agent_said = ErrorText(*resp);
      asked.last = "cvm-agentd: " + asked.agent_said;
    } else {
      asked.answer = std::move(resp).value();
      return asked;
    }
    auto wait = std::min(pause, left());
    if (wait.count() > 0) std::this_thread::sleep_for(wait);
  }
  return asked;
}

// A refusal by the agent: `what` and the agent's message, in the code of its status.
Status Refusal(const HttpResponse& r, const std::string& what) {
  std::string text = what + ": " + ErrorText(r);
  if (r.status == 403) return PermissionDenied(text);
  if (r.status == 404) return NotFound(text);
  if (r.status == 400) return InvalidInput(text);
  return Unavailable(text);
}

HttpRequest AgentPost(const std::string& socket, const std::string& path, const json& body) {
  std::string text = body.dump();
  HttpRequest req;
  req.method = "POST";
  req.url = "http://localhost" + path;
  req.unix_socket = socket;
  req.headers = {{"Content-Type", "application/json"}};
  req.body.assign(text.begin(), text.end());
  req.max_response_bytes = 64 << 10;
  return req;
}

}  // namespace

std::string AgentSocketPath() {
  const char* env = ::secure_getenv(kAgentSocketEnv);
  return env != nullptr && *env != '\0' ? std::string(env) : std::string(kDefaultAgentSocket);
}

Result<SecretBytes> FetchVolumeKey(HttpClient& http, const VolumeKeyRequest& request) {
  json body = {
      {"resource", request.resource}, {"uuid", request.uuid}, {"ciphers", request.ciphers}};
  Asked asked = AskAgent(http, AgentPost(request.socket, "/v1/luks/key", body), request.socket,
                         request.timeout, request.retry_interval, /*not_yet=*/503);
  if (asked.answer) {
    if (asked.answer->status != 200) {
      return Refusal(*asked.answer,
                     "cvm-agentd refused the key for resource '" + request.resource + "'");
    }
    if (asked.answer->body.empty()) return Internal("cvm-agentd answered with an empty key");
    return SecretBytes(std::move(asked.answer->body));
  }
  const auto ms = request.timeout.count();
  std::string within =
      ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
  std::string msg = "no key for resource '" + request.resource + "' from cvm-agentd within " +
                    within + ": " + asked.last;
  if (!asked.agent_said.empty() && asked.last.find(asked.agent_said) == std::string::npos) {
    msg += " (the agent's last answer: " + asked.agent_said + ")";
  }
  return DeadlineExceeded(msg);
}

Result<ProvisionAnswer> ProvisionVolumeKey(HttpClient& http, const std::string& socket,
                                           const std::string& resource,
                                           std::chrono::milliseconds timeout) {
  Asked asked = AskAgent(http, AgentPost(socket, "/v1/luks/provision", {{"resource", resource}}),
                         socket, timeout, std::chrono::milliseconds(250), /*not_yet=*/0);
  if (!asked.answer) {
    return DeadlineExceeded("no answer from cvm-agentd within " +
                            std::to_string(timeout.count() / 1000) + " s: " + asked.last);
  }
  const HttpResponse& resp = *asked.answer;
  if (resp.status != 200) {
    return Refusal(resp, "cvm-agentd did not provision resource '" + resource + "'");
  }
  json j = json::parse(AsChars(resp.body), nullptr, false);
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

}  // namespace cvm::luks
