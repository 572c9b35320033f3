// cvmctl's online verbs: status, evidence, secrets, attest. They talk to a running cvm-agentd over
// its API socket (docs/api.md) and nothing else, so they see what any other client sees.
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "cli/output.h"
#include "common/args.h"
#include "common/http.h"

namespace cvm::cli {

namespace {

constexpr const char* kDefaultSocket = "/run/cvm-agent/api.sock";

struct Endpoint {
  std::string socket = kDefaultSocket;
  std::string url;  // http://127.0.0.1:PORT: TCP instead of the socket
};

void AddEndpointOptions(ArgParser& p, Endpoint* e) {
  p.Option("socket", 0, "PATH",
           std::string("the agent's API socket (default ") + kDefaultSocket + ")", &e->socket);
  p.Option("url", 0, "URL", "reach the agent over TCP instead, e.g. http://127.0.0.1:8006",
           &e->url);
}

// Sends one request; turns transport failures into messages an operator can act on.
Result<HttpResponse> Call(const Endpoint& e, const std::string& method, const std::string& target) {
  HttpRequest req;
  req.method = method;
  req.timeout = std::chrono::seconds(60);
  if (!e.url.empty()) {
    std::string base = e.url;
    while (base.ends_with("/")) base.pop_back();
    req.url = base + target;
  } else {
    req.url = "http://localhost" + target;
    req.unix_socket = e.socket;
  }
  auto resp = NewCurlHttpClient()->Send(req);
  if (!resp.ok()) {
    std::string where = e.url.empty() ? e.socket : e.url;
    if (e.url.empty() && ::access(e.socket.c_str(), F_OK) != 0) {
      return Unavailable("cvm-agentd is not running (no API socket at " + where +
                         "; see `systemctl status cvm-agentd`)");
    }
    if (e.url.empty() && ::access(e.socket.c_str(), R_OK | W_OK) != 0) {
      return PermissionDenied("permission denied on " + where +
                              " (run as root or a user the "
                              "socket mode allows)");
    }
    return Unavailable("cannot reach cvm-agentd at " + where + ": " + resp.status().message());
  }
  return resp;
}

std::string ErrorText(const HttpResponse& r) {
  std::string body(AsChars(r.body));
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) {
    return j["error"].get<std::string>();
  }
  return "HTTP " + std::to_string(r.status);
}

// Maps an API error status to an exit code: 403 -> 3 (permission), 4xx -> 2, else 3.
int FailHttp(const HttpResponse& r) {
  std::string text = ErrorText(r);
  if (r.status == 403) return Fail(PermissionDenied(text));
  if (r.status >= 400 && r.status < 500) return Fail(InvalidInput(text));
  return Fail(Unavailable(text));
}

int Status_(Args args) {
  Endpoint e;
  bool json = false;
  ArgParser p("cvmctl status", "[options]",
              "Shows what the running cvm-agentd is doing: TEE, state, last result, resources.");
  AddEndpointOptions(p, &e);
  p.Flag("json", 0, "print the API's JSON document as is", &json);
  if (auto code = p.Parse(args)) return *code;
  auto r = Call(e, "GET", "/v1/status");
  if (!r.ok()) return Fail(r.status());
  if (r->status != 200) return FailHttp(*r);
  if (json) {
    std::fwrite(r->body.data(), 1, r->body.size(), stdout);
    return kExitOk;
  }
  auto j = nlohmann::json::parse(AsChars(r->body), nullptr, false);
  if (!j.is_object()) return Fail(InvalidInput("the agent answered something that is not JSON"));
  auto str = [&](const nlohmann::json& v, const char* key) {
    return v.contains(key) && v[key].is_string() ? v[key].get<std::string>() : std::string("-");
  };
  const auto& tee = j.value("tee", nlohmann::json::object());
  std::printf("cvm-agentd %s, up %llds\n", str(j, "version").c_str(),
              static_cast<long long>(j.value("uptime_seconds", 0LL)));
  std::printf("TEE:      %s (%s)%s\n", str(tee, "kind").c_str(), str(tee, "found_by").c_str(),
              j.value("simulated", false) ? "  ** SIMULATED **" : "");
  std::printf("State:    %s: %s\n", str(j, "state").c_str(), str(j, "waiting_for").c_str());
  std::printf("Relying party: %s\n", str(j, "relying_party").c_str());
  if (j.contains("last_result") && j["last_result"].is_object()) {
    const auto& lr = j["last_result"];
    std::printf("Last result: %s at %s after %d attempt(s)\n",
                lr.value("ok", false) ? "ok" : "FAILED", str(lr, "at").c_str(),
                lr.value("attempts", 0));
    if (lr.contains("reasons") && lr["reasons"].is_array()) {
      for (const auto& reason : lr["reasons"]) {
        if (reason.is_string()) std::printf("  - %s\n", reason.get<std::string>().c_str());
      }
    }
  }
  if (j.contains("resources") && j["resources"].is_array()) {
    std::printf("Resources:\n");
    for (const auto& res : j["resources"]) {
      std::printf("  %-24s %-10s %s%s\n", str(res, "name").c_str(), str(res, "state").c_str(),
                  str(res, "path").c_str(),
                  res.contains("error") ? ("  (" + str(res, "error") + ")").c_str() : "");
    }
  }
  if (j.contains("phases") && j["phases"].is_array() && !j["phases"].empty()) {
    std::printf("Timings of the last attestation:\n");
    for (const auto& ph : j["phases"]) {
      std::printf("  %-16s %9.1f ms\n", str(ph, "phase").c_str(), ph.value("ms", 0.0));
    }
  }
  return kExitOk;
}

int Evidence(Args args) {
  Endpoint e;
  std::string nonce, out;
  bool raw = false;
  ArgParser p("cvmctl evidence", "--nonce N [options]",
              "Asks the running cvm-agentd for a fresh evidence bundle bound to a nonce.");
  AddEndpointOptions(p, &e);
  p.Option("nonce", 'n', "N", "the nonce (8-512 base64url or hex characters)", &nonce);
  p.Flag("raw", 0, "use the nonce as REPORT_DATA itself (exactly 64 bytes)", &raw);
  p.Option("output", 'o', "FILE", "write the bundle to FILE (default stdout)", &out);
  if (auto code = p.Parse(args)) return *code;
  if (nonce.empty()) return Fail(InvalidInput("--nonce is required"));
  for (char c : nonce) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return Fail(InvalidInput("--nonce must be base64url or hex"));
    }
  }
  auto r = Call(e, "GET", "/v1/evidence?nonce=" + nonce + (raw ? "&raw=1" : ""));
  if (!r.ok()) return Fail(r.status());
  if (r->status != 200) return FailHttp(*r);
  Status s = WriteOutput(out, r->body);
  if (!s.ok()) return Fail(s);
  return kExitOk;
}

int Secrets(Args args) {
  Endpoint e;
  std::vector<std::string> pos;
  ArgParser p("cvmctl secrets", "list [options]",
              "Lists the resources the running cvm-agentd delivers (never their values).");
  AddEndpointOptions(p, &e);
  p.Positionals("list", 1, 1, &pos);
  if (auto code = p.Parse(args)) return *code;
  if (pos[0] != "list") return Fail(InvalidInput("unknown subcommand '" + pos[0] + "'"));
  auto r = Call(e, "GET", "/v1/secrets");
  if (!r.ok()) return Fail(r.status());
  if (r->status != 200) return FailHttp(*r);
  auto j = nlohmann::json::parse(AsChars(r->body), nullptr, false);
  if (!j.is_object() || !j.contains("secrets") || !j["secrets"].is_array()) {
    return Fail(InvalidInput("the agent answered an unexpected document"));
  }
  std::printf("%-24s %-10s %-9s %-28s %s\n", "NAME", "DELIVERED", "READABLE", "PATH", "SINKS");
  for (const auto& s : j["secrets"]) {
    std::string sinks;
    if (s.contains("sinks") && s["sinks"].is_array()) {
      for (const auto& k : s["sinks"]) {
        if (k.is_string()) sinks += (sinks.empty() ? "" : ",") + k.get<std::string>();
      }
    }
    std::printf("%-24s %-10s %-9s %-28s %s\n", s.value("name", "?").c_str(),
                s.value("delivered", false) ? "yes" : "no",
                s.value("readable_by_you", false) ? "yes" : "no", s.value("path", "?").c_str(),
                sinks.c_str());
  }
  return kExitOk;
}

int Attest(Args args) {
  Endpoint e;
  ArgParser p("cvmctl attest", "[options]",
              "Asks the running cvm-agentd to re-attest now and refresh its secrets.");
  AddEndpointOptions(p, &e);
  if (auto code = p.Parse(args)) return *code;
  auto r = Call(e, "POST", "/v1/attest");
  if (!r.ok()) return Fail(r.status());
  if (r->status != 202) return FailHttp(*r);
  std::printf("re-attestation requested; follow it with 'cvmctl status'\n");
  return kExitOk;
}

}  // namespace

int RunStatus(Args args) { return Status_(args); }
int RunEvidence(Args args) { return Evidence(args); }
int RunSecrets(Args args) { return Secrets(args); }
int RunAttest(Args args) { return Attest(args); }

}  // namespace cvm::cli
