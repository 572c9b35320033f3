// The agent's local API as the token plugin and `cvmctl luks` ask it (luks/agent_client.h),
// against a scripted HTTP client: what is retried, what is final, and what the errors say.
#include "luks/agent_client.h"

#include <catch2/catch.hpp>
#include <deque>
#include <nlohmann/json.hpp>

namespace cvm::luks {
namespace {

using namespace std::chrono_literals;

// Answers each Send with the next scripted result; once the script is used up, the last one
// again. Records the requests.
class ScriptedHttp final : public HttpClient {
 public:
  explicit ScriptedHttp(std::deque<Result<HttpResponse>> script) : script_(std::move(script)) {}
  Result<HttpResponse> Send(const HttpRequest& request) override {
    requests.push_back(request);
    Result<HttpResponse> next = script_.front();
    if (script_.size() > 1) script_.pop_front();
    return next;
  }
  std::vector<HttpRequest> requests;

 private:
  std::deque<Result<HttpResponse>> script_;
};

HttpResponse Answer(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body.assign(body.begin(), body.end());
  return r;
}

Result<HttpResponse> NoAgent() { return Unavailable("connect: no such file"); }

VolumeKeyRequest Request() {
  VolumeKeyRequest r;
  r.socket = "/run/test/api.sock";
  r.resource = "disk-key";
  r.uuid = "c4b0b3a8-7d2e-4f55-9f5e-2f7b1c3d9e10";
  r.ciphers = {"aes-xts-plain64"};
  r.timeout = 2s;
  r.retry_interval = 1ms;
  return r;
}

TEST_CASE("The volume key is asked for until the agent has it", "[luks]") {
  ScriptedHttp http(
      {NoAgent(), Answer(503, R"({"error":"attestation in progress"})"), Answer(200, "key bytes")});
  auto key = FetchVolumeKey(http, Request());
  REQUIRE(key.ok());
  CHECK(std::string(AsChars(key->view())) == "key bytes");
  REQUIRE(http.requests.size() == 3);
  const HttpRequest& req = http.requests.back();
  CHECK(req.method == "POST");
  CHECK(req.url == "http://localhost/v1/luks/key");
  CHECK(req.unix_socket == "/run/test/api.sock");
  auto body = nlohmann::json::parse(AsChars(req.body));
  CHECK(body == nlohmann::json{{"resource", "disk-key"},
                               {"uuid", "c4b0b3a8-7d2e-4f55-9f5e-2f7b1c3d9e10"},
                               {"ciphers", {"aes-xts-plain64"}}});
  CHECK(req.timeout.count() > 0);
  CHECK(req.timeout <= 2s);
}

TEST_CASE("A refusal by the agent is final and keeps the agent's words", "[luks]") {
  struct Case {
    int status;
    Code code;
  };
  for (Case c : {Case{403, Code::kPermissionDenied}, Case{404, Code::kNotFound},
                 Case{400, Code::kInvalidInput}, Case{500, Code::kUnavailable}}) {
    ScriptedHttp http({Answer(c.status, R"({"error":"policy says no"})")});
    auto key = FetchVolumeKey(http, Request());
    INFO("status " << c.status);
    REQUIRE_FALSE(key.ok());
    CHECK(key.status().code() == c.code);
    CHECK(key.status().message() ==
          "cvm-agentd refused the key for resource 'disk-key': policy says no");
    CHECK(http.requests.size() == 1);
  }
  ScriptedHttp empty({Answer(200, "")});
  CHECK(FetchVolumeKey(empty, Request()).status().code() == Code::kInternal);
}

TEST_CASE("Past the deadline the error says what the agent said last", "[luks]") {
  VolumeKeyRequest request = Request();
  request.timeout = 50ms;
  SECTION("the agent was not finished") {
    ScriptedHttp http({Answer(503, R"({"error":"attestation in progress"})")});
    auto key = FetchVolumeKey(http, request);
    CHECK(key.status().code() == Code::kDeadlineExceeded);
    CHECK(key.status().message() ==
          "no key for resource 'disk-key' from cvm-agentd within 50 ms: cvm-agentd: "
          "attestation in progress");
  }
  SECTION("the agent answered, then went away") {
    ScriptedHttp http({Answer(503, R"({"error":"attestation in progress"})"), NoAgent()});
    auto key = FetchVolumeKey(http, request);
    CHECK(key.status().code() == Code::kDeadlineExceeded);
    CHECK(key.status().message().find("cannot reach cvm-agentd at /run/test/api.sock") !=
          std::string::npos);
    CHECK(key.status().message().find("(the agent's last answer: attestation in progress)") !=
          std::string::npos);
  }
}

TEST_CASE("Provisioning waits for the agent but takes its first answer", "[luks]") {
  SECTION("created") {
    ScriptedHttp http({NoAgent(), Answer(200, R"({"uuid":"u-1","created":true,
                                                   "relying_party":"https://rp"})")});
    auto answer = ProvisionVolumeKey(http, "/run/test/api.sock", "vm-key", 2s);
    REQUIRE(answer.ok());
    CHECK(answer->uuid == "u-1");
    CHECK(answer->created);
    CHECK(answer->relying_party == "https://rp");
    REQUIRE(http.requests.size() == 2);
    CHECK(http.requests[1].url == "http://localhost/v1/luks/provision");
    CHECK(nlohmann::json::parse(AsChars(http.requests[1].body)) ==
          nlohmann::json{{"resource", "vm-key"}});
  }
  SECTION("a 503 is final here") {
    ScriptedHttp http({Answer(503, R"({"error":"not attested"})")});
    auto answer = ProvisionVolumeKey(http, "/run/test/api.sock", "vm-key", 2s);
    CHECK(answer.status().code() == Code::kUnavailable);
    CHECK(answer.status().message() ==
          "cvm-agentd did not provision resource 'vm-key': not attested");
    CHECK(http.requests.size() == 1);
  }
  SECTION("a malformed answer") {
    ScriptedHttp http({Answer(200, R"({"uuid":7})")});
    auto answer = ProvisionVolumeKey(http, "/run/test/api.sock", "vm-key", 2s);
    CHECK(answer.status().code() == Code::kInvalidInput);
  }
  SECTION("no agent at all") {
    ScriptedHttp http({NoAgent()});
    auto answer = ProvisionVolumeKey(http, "/run/test/api.sock", "vm-key", 1s);
    CHECK(answer.status().code() == Code::kDeadlineExceeded);
    CHECK(answer.status().message().rfind("no answer from cvm-agentd within 1 s: cannot reach "
                                          "cvm-agentd at /run/test/api.sock",
                                          0) == 0);
  }
}

}  // namespace
}  // namespace cvm::luks
