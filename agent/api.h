// The local HTTP API (docs/api.md): routing and answers, independent of the transport. The Beast
// server (api_server.h) parses requests within its limits, fills in who is asking, calls Handle
// and writes the answer; tests call Handle directly too.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>

#include "agent/attester.h"
#include "agent/config.h"
#include "agent/sinks.h"
#include "agent/state.h"
#include "common/clock.h"

namespace cvm::agent {

struct PeerCred {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

struct ApiRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as received
  bool over_tcp = false;
  std::optional<PeerCred> peer;  // SO_PEERCRED on the unix socket; none over TCP
  std::string body;              // the request body (at most api.body_limit bytes)
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // The body is secret material: the server wipes it after sending and never logs it.
  bool secret = false;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Whether `peer` may read `resource` through the API: the resource has an api sink, and over TCP
// it allows TCP; on the unix socket the peer's uid is listed or its gid (primary group from
// SO_PEERCRED) is listed.
bool ApiAllows(const ResourceConfig& resource, const ApiRequest& request);

class ApiHandler {
 public:
  struct Deps {
    const Config* config = nullptr;
    AgentState* state = nullptr;
    Metrics* metrics = nullptr;
    SecretStore* secrets = nullptr;
    EvidenceSource* evidence = nullptr;  // nullptr: evidence endpoints answer 503
    // Asks the boot flow for a re-attestation; nullptr: 503.
    std::function<void()> request_attest;
    // The relying party's current token (GET /aa/token); empty when none.
    std::function<std::string()> token;
    const Clock* clock = nullptr;
    // Creates or finds this VM's value of a per-VM resource (POST /v1/luks/provision; the boot
    // flow's Provision). Returns whether it was created and which relying party answered.
    // nullptr: 503.
    std::function<Result<std::pair<bool, std::string>>(const std::string& name)> provision;
  };
  explicit ApiHandler(Deps deps);

  // Answers one request; never throws. Counts it in the metrics by route and status.
  ApiResponse Handle(const ApiRequest& request);

 private:
  ApiResponse Route(const ApiRequest& request, std::string* route);
  ApiResponse Status_();
  ApiResponse Evidence(const std::string& query, bool coco);
  ApiResponse Secret(const ApiRequest& request, const ResourceConfig* resource,
                     const std::string& what);
  ApiResponse SecretList(const ApiRequest& request);
  ApiResponse LuksKey(const ApiRequest& request);
  ApiResponse LuksProvision(const ApiRequest& request);

  Deps d_;
};

// A query parameter, percent-decoded; nullopt when absent. kInvalidInput for bad escapes.
Result<std::optional<std::string>> QueryParam(std::string_view query, std::string_view name);

}  // namespace cvm::agent
