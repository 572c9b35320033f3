// The relying party end to end over loopback HTTP and HTTPS, with fake evidence.
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "common/encoding.h"
#include "common/http.h"
#include "tests/rp/http_client.h"
#include "tests/rp/rp_fixture.h"

namespace cvm::rp::testing {
namespace {

using nlohmann::json;

std::string ErrorType(const Reply& r) {
  json j = r.Json();
  return j.is_object() ? j.value("type", "") : "";
}

bool HasReason(const json& record, const std::string& fragment) {
  if (!record.is_object()) return false;
  for (const auto& r : record["reasons"]) {
    if (r.get<std::string>().find(fragment) != std::string::npos) return true;
  }
  return false;
}

constexpr char kErr[] = "https://github.com/confidential-containers/kbs/errors/";

// auth + attest with `fields`; returns the attest reply.
Reply AuthAndAttest(KbsClient& client, const json& fields = GoodEvidence()) {
  Reply auth = client.Auth();
  REQUIRE(auth.status == 200);
  return client.Attest(AttestBody(client.nonce, fields));
}

// After a refusal: the client's cookie gets nothing, and no secret appears anywhere.
void RequireNothingReleased(RpFixture& rp, KbsClient& client) {
  Reply r = client.Resource("default/key/disk");
  CHECK(r.status == 401);
  CHECK(r.body.find("fake-jwe") == std::string::npos);
  CHECK(rp.AuditText().find(kDiskSecret) == std::string::npos);
}

void RequireReleased(const Reply& r, const std::string& secret) {
  REQUIRE(r.status == 200);
  json jwe = r.Json();
  REQUIRE(jwe.is_object());
  auto plain = Base64Decode(jwe.value("fake-jwe", ""));
  REQUIRE(plain.ok());
  CHECK(std::string(plain->begin(), plain->end()) == secret);
  CHECK(jwe["to"] == TestJwk()["x"]);
}

TEST_CASE("A client attests over HTTP and receives the resource sealed to its key", "[rp]") {
  RpFixture rp;
  KbsClient client(rp.http_base());
  Reply auth = client.Auth();
  REQUIRE(auth.status == 200);
  CHECK(auth.Header("content-type") == "application/json");
  json challenge = auth.Json();
  CHECK(challenge["extra-params"] == "");
  auto nonce = Base64Decode(challenge.value("nonce", ""));
  REQUIRE(nonce.ok());
  CHECK(nonce->size() == 32);
  // kbs-session-id=<32 lower-case hex>; Expires=<IMF-fixdate>, as actix-web writes it.
  std::string cookie = auth.Header("set-cookie");
  REQUIRE(cookie.size() == 15 + 32 + 10 + 29);
  CHECK(cookie.rfind("kbs-session-id=", 0) == 0);
  CHECK(cookie.substr(15, 32).find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(cookie.substr(47, 10) == "; Expires=");
  CHECK(cookie.substr(cookie.size() - 4) == " GMT");

  Reply attest = client.Attest(AttestBody(client.nonce, GoodEvidence()));
  REQUIRE(attest.status == 200);
  std::string token = attest.Json().value("token", "");
  json claims = TokenClaims(token);
  CHECK(claims["eat_profile"] == "tag:github.com,2024:confidential-containers/Trustee");
  CHECK(claims["exp"].get<int64_t>() == claims["iat"].get<int64_t>() + 300);
  CHECK(claims["iss"] == "cvm-rp");
  const json& cpu0 = claims["submods"]["cpu0"];
  CHECK(cpu0["ear.status"] == "affirming");
  CHECK(cpu0["ear.appraisal-policy-id"].get<std::string>().rfind("sha256:", 0) == 0);
  const json& annotated = cpu0["ear.veraison.annotated-evidence"];
  CHECK(annotated["runtime_data_claims"]["tee-pubkey"] == TestJwk());
  CHECK(annotated["runtime_data_claims"]["nonce"] == client.nonce);
  CHECK(annotated["snp"]["measurement"] == kGoodMeasurement);

  RequireReleased(client.Resource("default/key/disk"), kDiskSecret);
  json record = rp.LastAudit("resource");
  CHECK(record["verdict"] == "allow");
  CHECK(record["resource"] == "default/key/disk");
  CHECK(record["session"] == client.cookie);
  CHECK(record["tee"] == "snp");
  CHECK(record["evidence"].get<std::string>().rfind("sha256:", 0) == 0);
  CHECK(rp.LastAudit("attest")["verdict"] == "allow");
  CHECK(rp.AuditText().find(kDiskSecret) == std::string::npos);
}

TEST_CASE("The same exchange works over HTTPS with the server's certificate", "[rp]") {
  RpFixture rp;
  KbsClient client(rp.https_base(), rp.ca_file());
  REQUIRE(AuthAndAttest(client).status == 200);
  RequireReleased(client.Resource("default/key/disk"), kDiskSecret);
}

// The client address ("127.0.0.1:PORT") cvm-rp audited for each request of an exchange made with
// the production libcurl client (common/http.h).
std::vector<std::string> ClientsOfExchange(RpFixture& rp, const std::string& base,
                                           bool keep_alive) {
  auto http = NewCurlHttpClient(keep_alive);
  auto send = [&](std::string method, std::string path, std::string body, std::string cookie) {
    HttpRequest req;
    req.method = std::move(method);
    req.url = base + path;
    req.ca_file = rp.ca_file();
    req.proxy = "";
    req.headers.emplace_back("Content-Type", "application/json");
    if (!cookie.empty()) req.headers.emplace_back("Cookie", "kbs-session-id=" + cookie);
    req.body.assign(body.begin(), body.end());
    auto response = http->Send(req);
    REQUIRE(response.ok());
    REQUIRE(response->status == 200);
    return std::move(response).value();
  };
  HttpResponse auth =
      send("POST", "/kbs/v0/auth", R"({"version":"0.4.0","tee":"snp","extra-params":""})", "");
  std::string cookie = auth.Header("set-cookie").substr(15, 32);
  std::string nonce = json::parse(AsChars(auth.body))["nonce"];
  send("POST", "/kbs/v0/attest", AttestBody(nonce, GoodEvidence()), cookie);
  send("GET", "/kbs/v0/resource/default/key/disk", "", cookie);
  std::vector<std::string> clients;
  for (const auto& record : rp.Audit()) clients.push_back(record["client"]);
  return clients;
}

TEST_CASE("A keep-alive client sends a whole exchange over one connection, HTTP and HTTPS",
          "[rp]") {
  for (bool tls : {false, true}) {
    RpFixture rp;
    auto clients = ClientsOfExchange(rp, tls ? rp.https_base() : rp.http_base(), true);
    REQUIRE(clients.size() == 3);
    CHECK(clients[0] == clients[1]);
    CHECK(clients[1] == clients[2]);
  }
  // Without keep_alive every request has a connection (a client port) of its own.
  RpFixture rp;
  auto clients = ClientsOfExchange(rp, rp.http_base(), false);
  REQUIRE(clients.size() == 3);
  CHECK(clients[0] != clients[1]);
  CHECK(clients[1] != clients[2]);
}

TEST_CASE("A Bearer token fetches a resource without the session cookie", "[rp]") {
  RpFixture rp;
  KbsClient client(rp.http_base());
  Reply attest = AuthAndAttest(client);
  REQUIRE(attest.status == 200);
  KbsClient other(rp.http_base());
  RequireReleased(other.Resource("default/key/disk", attest.Json()["token"]), kDiskSecret);
  Reply forged = other.Resource("default/key/disk", "eyJmYWtlIjoxfQ.00");
  CHECK(forged.status == 401);
  CHECK(ErrorType(forged) == std::string(kErr) + "TokenVerifierError");
}

TEST_CASE("A protocol version other than 0.4.0 is refused with Trustee's detail", "[rp]") {
  RpFixture rp;
  KbsClient client(rp.http_base());
  Reply r = client.Auth("snp", "0.1.1");
  CHECK(r.status == 401);
  CHECK(ErrorType(r) == std::string(kErr) + "AttestationError");
  CHECK(r.Json()["detail"] ==
        "Attestation error: RCAR handshake Auth failed: KBS Client Protocol Version Mismatch: "
        "expect =0.4.0 while the request is 0.1.1");
  CHECK(r.Header("set-cookie").empty());
  CHECK(HasReason(rp.LastAudit("auth"), "0.1.1"));
}

TEST_CASE("An unknown or unsupported TEE kind is refused at auth", "[rp]") {
  RpFixture rp;
  KbsClient client(rp.http_base());
  Reply unknown = client.Auth("foo");
  CHECK(unknown.status == 401);
  CHECK(unknown.Json()["detail"] ==
        "Attestation error: RCAR handshake Auth failed: deserialize Request");
  Reply sgx = client.Auth("sgx");
  CHECK(sgx.status == 401);
  CHECK(ErrorType(sgx) == std::string(kErr) + "AttestationError");
  CHECK(HasReason(rp.LastAudit("auth"), "sgx"));
}

TEST_CASE("Requests missing a required member are refused with 401", "[rp]") {
  RpFixture rp;
  KbsClient client(rp.http_base());
  Reply no_extra = client.Send("POST", "/kbs/v0/auth", R"({"version":"0.4.0","tee":"snp"})");
  CHECK(no_extra.status == 401);
  CHECK(HasReason(rp.LastAudit("auth"), "extra-params"));
  CHECK(client.Send("POST", "/kbs/v0/auth", "not json").status == 401);

  REQUIRE(client.Auth().status == 200);
  json body = json::parse(AttestBody(client.nonce, GoodEvidence()));
  for (const char* member : {"runtime-data", "tee-evidence"}) {
    json broken = body;
    broken.erase(member);
    Reply r = client.Attest(broken.dump());
    CHECK(r.status == 401);
    CHECK(r.Json()["detail"] == "Attestation error: RCAR handshake Attest failed");
    CHECK(HasReason(rp.LastAudit("attest"), member));
  }
  json no_additional = body;
  no_additional["tee-evidence"].erase("additional_evidence");
  CHECK(client.Attest(no_additional.dump()).status == 401);
  CHECK(HasReason(rp.LastAudit("attest"), "additional_evidence"));
  // The session survives malformed attempts (Trustee allows a retry on the same session).
  CHECK(client.Attest(body.dump()).status == 200);
}

TEST_CASE("Attest without a session cookie is refused", "[rp]") {
  RpFixture rp;
  KbsClient client(rp.http_base());
  REQUIRE(client.Auth().status == 200);
  std::string nonce = client.nonce;
  client.cookie.clear();
  Reply r = client.Attest(AttestBody(nonce, GoodEvidence()));
  CHECK(r.status == 401);
  CHECK(HasReason(rp.LastAudit("attest"), "no kbs-session-id cookie"));
  client.cookie = "0123456789abcdef0123456789abcdef";
  CHECK(client.Attest(AttestBody(nonce, GoodEvidence())).status == 401);
  CHECK(HasReason(rp.LastAudit("attest"), "unknown session"));
  CHECK(rp.appraiser.calls() == 0);
}

TEST_CASE("An expired session cannot attest", "[rp]") {
  RpFixture rp;
  KbsClient client(rp.http_base());
  REQUIRE(client.Auth().status == 200);
  rp.clock.Advance(std::chrono::seconds(301));
  Reply r = client.Attest(AttestBody(client.nonce, GoodEvidence()));
  CHECK(r.status == 401);
  CHECK(HasReason(rp.LastAudit("attest"), "session expired"));
  RequireNothingReleased(rp, client);
}

TEST_CASE("Evidence for another nonce is refused and the session may retry", "[rp]") {
  RpFixture rp;
  KbsClient client(rp.http_base());
  REQUIRE(client.Auth().status == 200);
  std::string other_nonce = Base64Encode(Bytes(32, 7));
  Reply r = client.Attest(AttestBody(other_nonce, GoodEvidence()));
  CHECK(r.status == 401);
  CHECK(HasReason(rp.LastAudit("attest"), "nonce"));
  RequireNothingReleased(rp, client);
  CHECK(client.Attest(AttestBody(client.nonce, GoodEvidence())).status == 200);
}

TEST_CASE("A replayed attestation is refused by a new session", "[rp]") {
  RpFixture rp;
  KbsClient first(rp.http_base());
  REQUIRE(first.Auth().status == 200);
  std::string used = AttestBody(first.nonce, GoodEvidence());
  REQUIRE(first.Attest(used).status == 200);
  KbsClient attacker(rp.http_base());
  REQUIRE(attacker.Auth().status == 200);
  Reply r = attacker.Attest(used);
  CHECK(r.status == 401);
  CHECK(HasReason(rp.LastAudit("attest"), "nonce"));
  RequireNothingReleased(rp, attacker);
}

TEST_CASE("An attested session returns its stored token without appraising again", "[rp]") {
  RpFixture rp;
  KbsClient client(rp.http_base());
  Reply first = AuthAndAttest(client);
  REQUIRE(first.status == 200);
  int calls = rp.appraiser.calls();
  Reply again = client.Attest(AttestBody(client.nonce, json{{"genuine", false}}));
  CHECK(again.status == 200);
  CHECK(again.Json()["token"] == first.Json()["token"]);
  CHECK(rp.appraiser.calls() == calls);
}

TEST_CASE("Evidence the appraiser refuses is 401 with its reasons audited", "[rp]") {
  RpFixture rp;
  KbsClient client(rp.http_base());
  json forged = GoodEvidence();
  forged["genuine"] = false;
  Reply r = AuthAndAttest(client, forged);
  CHECK(r.status == 401);
  CHECK(r.Header(std::string("x-cvm-rp-reason")).find("signature") != std::string::npos);
  CHECK(HasReason(rp.LastAudit("attest"), "report signature does not verify"));
  RequireNothingReleased(rp, client);
}

TEST_CASE("A TEE key with members Trustee does not send is refused at attest", "[rp]") {
  RpFixture rp;
  KbsClient client(rp.http_base());
  REQUIRE(client.Auth().status == 200);
  json jwk = TestJwk();
  jwk["kid"] = "extra";
  Reply r = client.Attest(AttestBody(client.nonce, GoodEvidence(), jwk));
  CHECK(r.status == 401);
  CHECK(HasReason(rp.LastAudit("attest"), "kid"));
  RequireNothingReleased(rp, client);
}

TEST_CASE("Policy refusals are 401 with every reason in the audit log", "[rp]") {
  struct Case {
    const char* name;
    json evidence;
    const char* reason;
  };
  json wrong = GoodEvidence();
  wrong["measurement"] = std::string(96, 'c');
  json debug = GoodEvidence();
  debug["debug"] = true;
  json old_tcb = GoodEvidence();
  old_tcb["tcb"]["snp"] = 7;
  json simulated = GoodEvidence();
  simulated["simulated"] = true;
  for (const auto& c : {Case{"wrong measurement", wrong, "measurement cccc"},
                        Case{"debug", debug, "debug guest refused"},
                        Case{"TCB below the minimum", old_tcb, "TCB snp 7 is below the minimum 8"},
                        Case{"simulated root", simulated, "simulated root"}}) {
    SECTION(c.name) {
      RpFixture rp;
      KbsClient client(rp.http_base());
      Reply r = AuthAndAttest(client, c.evidence);
      CHECK(r.status == 401);
      CHECK(ErrorType(r) == std::string(kErr) + "AttestationError");
      json record = rp.LastAudit("attest");
      CHECK(record["verdict"] == "deny");
      CHECK(HasReason(record, c.reason));
      RequireNothingReleased(rp, client);
    }
  }
}

TEST_CASE("Evidence older than the policy allows is refused", "[rp]") {
  RpFixture rp;
  KbsClient client(rp.http_base());
  REQUIRE(client.Auth().status == 200);
  rp.clock.Advance(std::chrono::seconds(90));  // the session lives 300 s, the policy allows 60 s
  Reply r = client.Attest(AttestBody(client.nonce, GoodEvidence()));
  CHECK(r.status == 401);
  CHECK(HasReason(rp.LastAudit("attest"), "evidence is 90s old, more than the 60s allowed"));
  RequireNothingReleased(rp, client);
}

TEST_CASE("A resource whose own rule refuses the claims is 401 PolicyDeny", "[rp]") {
  RpFixture rp;
  KbsClient client(rp.http_base());
  REQUIRE(AuthAndAttest(client).status == 200);
  Reply r = client.Resource("default/strict/one");
  CHECK(r.status == 401);
  CHECK(ErrorType(r) == std::string(kErr) + "PolicyDeny");
  CHECK(r.body.find("strict-secret") == std::string::npos);
  json record = rp.LastAudit("resource");
  CHECK(record["verdict"] == "deny");
  CHECK(HasReason(record, "policy default/strict/*: measurement"));
}

TEST_CASE("A token older than max_evidence_age no longer releases resources", "[rp]") {
  RpFixture rp;
  KbsClient client(rp.http_base());
  REQUIRE(AuthAndAttest(client).status == 200);
  rp.clock.Advance(std::chrono::seconds(61));
  Reply r = client.Resource("default/key/disk");
  CHECK(r.status == 401);
  CHECK(ErrorType(r) == std::string(kErr) + "PolicyDeny");
  CHECK(HasReason(rp.LastAudit("resource"), "evidence is 61s old"));
}

TEST_CASE("An unknown resource is 401 PluginInternalError, as Trustee answers", "[rp]") {
  RpFixture rp;
  KbsClient client(rp.http_base());
  REQUIRE(AuthAndAttest(client).status == 200);
  Reply r = client.Resource("default/key/nothere");
  CHECK(r.status == 401);
  CHECK(ErrorType(r) == std::string(kErr) + "PluginInternalError");
  CHECK(HasReason(rp.LastAudit("resource"), "no such resource"));
}

TEST_CASE("Path traversal attempts are refused and release nothing", "[rp]") {
  RpFixture rp;
  KbsClient client(rp.http_base());
  REQUIRE(AuthAndAttest(client).status == 200);
  for (const char* path : {"../key/disk", "default/../disk", "default/key/..", "%2e%2e/key/disk",
                           "default/key/%2e%2e", "default/key/disk/extra", "default/key",
                           ".default/key/disk", "default//disk", "default/key/disk%00"}) {
    INFO(path);
    Reply r = client.Resource(path);
    CHECK(r.status == 401);
    CHECK(ErrorType(r) == std::string(kErr) + "PluginInternalError");
    CHECK(r.body.find("fake-jwe") == std::string::npos);
  }
  Reply outside = client.Send("GET", "/kbs/v0/../v0/resource/default/key/disk");
  CHECK(outside.status == 404);
  CHECK(outside.body.find("fake-jwe") == std::string::npos);
}

TEST_CASE("Unknown plugins and wrong methods are 404 PluginNotFound", "[rp]") {
  RpFixture rp;
  KbsClient client(rp.http_base());
  Reply foo = client.Send("GET", "/kbs/v0/foo");
  CHECK(foo.status == 404);
  CHECK(ErrorType(foo) == std::string(kErr) + "PluginNotFound");
  CHECK(foo.Json()["detail"] == "Plugin foo not found");
  Reply get_auth = client.Send("GET", "/kbs/v0/auth");
  CHECK(get_auth.status == 404);
  CHECK(get_auth.Json()["detail"] == "Plugin auth not found");
  CHECK(client.Send("GET", "/other").status == 404);
}

TEST_CASE("A body over the limit is answered 413 as actix-web does for Trustee", "[rp]") {
  RpFixture rp;  // max_body 64 KiB
  KbsClient client(rp.http_base());
  REQUIRE(client.Auth().status == 200);
  json fields = GoodEvidence();
  fields["padding"] = std::string(100 << 10, 'x');
  Reply r = client.Attest(AttestBody(client.nonce, fields));
  CHECK(r.status == 413);
  CHECK(rp.appraiser.calls() == 0);
  Reply headers = client.Send("GET", "/kbs/v0/auth", "", {"X-Big: " + std::string(20 << 10, 'h')});
  CHECK(headers.status == 431);
}

TEST_CASE("The diagnostic header is sent only when the configuration turns it on", "[rp]") {
  RpOptions quiet;
  quiet.diagnostic_header = false;
  RpFixture rp(quiet);
  KbsClient client(rp.http_base());
  json forged = GoodEvidence();
  forged["genuine"] = false;
  Reply r = AuthAndAttest(client, forged);
  CHECK(r.status == 401);
  CHECK(r.Header("x-cvm-rp-reason").empty());
  CHECK(HasReason(rp.LastAudit("attest"), "signature"));
}

TEST_CASE("A reloaded policy governs the next decision", "[rp]") {
  RpFixture rp;
  KbsClient client(rp.http_base());
  REQUIRE(AuthAndAttest(client).status == 200);
  auto strict = ParsePolicy("default:\n  tee: [tdx]\n", "reloaded.yaml");
  REQUIRE(strict.ok());
  rp.service->Reload(std::make_shared<const Policy>(std::move(strict).value()), nullptr);
  Reply r = client.Resource("default/key/disk");
  CHECK(r.status == 401);
  CHECK(HasReason(rp.LastAudit("resource"), "TEE kind snp is not accepted"));
}

TEST_CASE("Two hundred concurrent clients are all served", "[rp]") {
  RpOptions options;
  options.threads = 4;
  RpFixture rp(options);
  constexpr int kClients = 200;
  std::atomic<int> served{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      KbsClient client(i % 2 == 0 ? rp.http_base() : rp.https_base(), rp.ca_file());
      if (client.Auth().status != 200) return;
      if (client.Attest(AttestBody(client.nonce, GoodEvidence())).status != 200) return;
      Reply r = client.Resource("default/key/disk");
      if (r.status == 200 && r.body.find("fake-jwe") != std::string::npos) served.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  CHECK(served.load() == kClients);
  CHECK(rp.sessions->size() == kClients);
}

}  // namespace
}  // namespace cvm::rp::testing
