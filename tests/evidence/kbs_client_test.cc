// The KBS client against FakeKbs, an in-memory server side of Trustee's protocol.
#include "evidence/kbs_client.h"

#include <catch2/catch.hpp>

#include "common/encoding.h"
#include "tests/evidence/fake_kbs.h"

namespace cvm::evidence {
namespace {

using nlohmann::json;
using testing::FakeKbs;

std::string Str(const SecretBytes& s) { return std::string(AsChars(s.view())); }

struct Fixture {
  FixedClock clock{TimePoint(std::chrono::seconds(1'800'000'000))};
  FakeKbs a{"https://kbs-a.test", &clock};
  FakeKbs b{"https://kbs-b.test:8080", &clock};
  testing::FakeKbsNetwork net;
  Fixture() {
    net.Add(&a);
    net.Add(&b);
    a.resources["default/key/disk"] = "secret-a";
    b.resources["default/key/disk"] = "secret-b";
  }
  KbsClientOptions Options(std::vector<std::string> urls) {
    KbsClientOptions o;
    for (auto& u : urls) o.endpoints.push_back(KbsEndpoint{u, "", "", std::nullopt});
    o.clock = &clock;
    return o;
  }
};

TEST_CASE("The client attests with auth then attest, sending the session cookie") {
  Fixture f;
  KbsClient client(f.net, f.Options({"https://kbs-a.test"}), testing::FakeEvidenceProvider());
  auto token = client.Attest();
  REQUIRE(token.ok());
  CHECK(f.a.log == std::vector<std::string>{"POST /kbs/v0/auth", "POST /kbs/v0/attest"});
  CHECK(f.a.cookies_seen[0].empty());
  CHECK(f.a.cookies_seen[1].starts_with("kbs-session-id="));
  CHECK(f.a.cookies_seen[1].size() == std::string("kbs-session-id=").size() + 32);
  REQUIRE(token->expires);
  CHECK(*token->expires == f.clock.Now() + std::chrono::seconds(300));
  CHECK(token->url == "https://kbs-a.test");
  CHECK(token->jwt.claims["submods"]["cpu0"]["ear.veraison.annotated-evidence"]
                         ["runtime_data_claims"]["tee-pubkey"]["alg"] == "ECDH-ES+A256KW");
}

TEST_CASE("The client fetches and decrypts a resource with the session key") {
  Fixture f;
  KbsClient client(f.net, f.Options({"https://kbs-a.test/"}), testing::FakeEvidenceProvider());
  auto secret = client.GetResource("default/key/disk");
  REQUIRE(secret.ok());
  CHECK(Str(*secret) == "secret-a");
  // A second resource reuses the session (no new attestation).
  auto again = client.GetResource("default/key/disk");
  REQUIRE(again.ok());
  CHECK(f.a.attestations == 1);
  CHECK(f.a.log.back() == "GET /kbs/v0/resource/default/key/disk");
  CHECK(f.a.cookies_seen.back() == f.a.cookies_seen[1]);
}

TEST_CASE("Each supported key type works end to end") {
  for (TeeKeyType type : {TeeKeyType::kEcP256, TeeKeyType::kEcP521, TeeKeyType::kRsa2048}) {
    Fixture f;
    auto options = f.Options({"https://kbs-a.test"});
    options.key_type = type;
    KbsClient client(f.net, options, testing::FakeEvidenceProvider());
    auto secret = client.GetResource("default/key/disk");
    REQUIRE(secret.ok());
    CHECK(Str(*secret) == "secret-a");
  }
}

TEST_CASE("The token is verified when the relying party's key is configured") {
  Fixture f;
  auto options = f.Options({"https://kbs-a.test"});
  options.token_key = f.a.token_key();
  KbsClient good(f.net, options, testing::FakeEvidenceProvider());
  CHECK(good.Attest().ok());
  options.token_key = f.b.token_key();  // another relying party's key
  KbsClient bad(f.net, options, testing::FakeEvidenceProvider());
  auto r = bad.Attest();
  CHECK(r.status().code() == Code::kRejected);
  CHECK(r.status().ToString().find("attestation token") != std::string::npos);
}

TEST_CASE("The challenge's selected hash reaches the evidence provider") {
  Fixture f;
  f.a.select_hash = DigestAlg::kSha512;
  DigestAlg seen = DigestAlg::kSha1;
  auto inner = testing::FakeEvidenceProvider();
  KbsClient client(f.net, f.Options({"https://kbs-a.test"}),
                   [&](const KbsChallenge& c, const json& jwk, DigestAlg h) {
                     seen = h;
                     return inner(c, jwk, h);
                   });
  REQUIRE(client.Attest().ok());
  CHECK(seen == DigestAlg::kSha512);
}

TEST_CASE("Relying parties fail over in order: unreachable, then 500, then garbage") {
  Fixture f;
  FakeKbs c{"https://kbs-c.test", &f.clock};
  c.resources["default/key/disk"] = "secret-c";
  f.net.Add(&c);
  f.a.unreachable = true;
  f.b.fail_status = 500;
  KbsClient client(
      f.net, f.Options({"https://kbs-a.test", "https://kbs-b.test:8080", "https://kbs-c.test"}),
      testing::FakeEvidenceProvider());
  auto secret = client.GetResource("default/key/disk");
  REQUIRE(secret.ok());
  CHECK(Str(*secret) == "secret-c");
  CHECK(f.a.log == std::vector<std::string>{"unreachable"});
  CHECK(f.b.log == std::vector<std::string>{"POST /kbs/v0/auth"});

  f.b.fail_status = 0;
  f.b.garbage = true;
  c.unreachable = true;
  KbsClient none(f.net,
                 f.Options({"https://kbs-a.test", "https://kbs-b.test:8080", "https://kbs-c.test"}),
                 testing::FakeEvidenceProvider());
  auto failed = none.Attest();
  REQUIRE(failed.status().code() == Code::kUnavailable);
  std::string msg = failed.status().ToString();
  CHECK(msg.find("kbs-a.test") != std::string::npos);
  CHECK(msg.find("kbs-b.test:8080: KBS challenge: not valid JSON") != std::string::npos);
  CHECK(msg.find("kbs-c.test") != std::string::npos);
}

TEST_CASE("A 500 is reported with the error body's type and detail") {
  Fixture f;
  f.a.fail_status = 500;
  KbsClient client(f.net, f.Options({"https://kbs-a.test"}), testing::FakeEvidenceProvider());
  auto r = client.Attest();
  REQUIRE(!r.ok());
  CHECK(r.status().ToString().find(
            "https://kbs-a.test: auth: HTTP 500 InternalError: the fake relying party was told to "
            "fail") != std::string::npos);
}

TEST_CASE("A 401 on a resource re-attests once and then succeeds") {
  Fixture f;
  KbsClient client(f.net, f.Options({"https://kbs-a.test"}), testing::FakeEvidenceProvider());
  REQUIRE(client.GetResource("default/key/disk").ok());
  f.a.ExpireSessions();
  auto secret = client.GetResource("default/key/disk");
  REQUIRE(secret.ok());
  CHECK(f.a.attestations == 2);
}

TEST_CASE("A persistent 401 is reported after one re-attestation, with type and detail") {
  Fixture f;
  f.a.denied.push_back("default/key/disk");
  KbsClient client(f.net, f.Options({"https://kbs-a.test", "https://kbs-b.test:8080"}),
                   testing::FakeEvidenceProvider());
  auto r = client.GetResource("default/key/disk");
  REQUIRE(r.status().code() == Code::kRejected);
  CHECK(r.status().ToString().find("HTTP 401 PolicyDeny: Access denied by policy") !=
        std::string::npos);
  CHECK(f.a.attestations == 2);
  CHECK(f.b.log.empty());  // a definite answer is not failed over
}

TEST_CASE("A missing resource is reported as Trustee reports it") {
  Fixture f;
  KbsClient client(f.net, f.Options({"https://kbs-a.test"}), testing::FakeEvidenceProvider());
  auto r = client.GetResource("default/key/nothing");
  REQUIRE(r.status().code() == Code::kRejected);
  CHECK(r.status().ToString().find("PluginInternalError: Plugin internal error") !=
        std::string::npos);
  CHECK(client.GetResource("default/../etc").status().code() == Code::kInvalidInput);
}

TEST_CASE("Evidence bound to the wrong nonce is refused with 401 and not failed over") {
  Fixture f;
  auto inner = testing::FakeEvidenceProvider();
  KbsClient client(f.net, f.Options({"https://kbs-a.test", "https://kbs-b.test:8080"}),
                   [&](const KbsChallenge& c, const json& jwk, DigestAlg h) {
                     KbsChallenge other = c;
                     other.nonce = "replayed";
                     return inner(other, jwk, h);
                   });
  auto r = client.Attest();
  REQUIRE(r.status().code() == Code::kRejected);
  CHECK(r.status().ToString().find("attest: HTTP 401 AttestationError: Attestation error: RCAR "
                                   "handshake Attest failed") != std::string::npos);
  CHECK(f.b.log.empty());
}

TEST_CASE("An evidence provider failure is reported, not failed over") {
  Fixture f;
  KbsClient client(f.net, f.Options({"https://kbs-a.test", "https://kbs-b.test:8080"}),
                   [](const KbsChallenge&, const json&, DigestAlg) -> Result<KbsEvidence> {
                     return InvalidInput("no SEV-SNP device");
                   });
  auto r = client.Attest();
  REQUIRE(r.status().code() == Code::kInvalidInput);
  CHECK(r.status().ToString() == "evidence: no SEV-SNP device");
  CHECK(f.b.log.empty());
}

TEST_CASE("An expired token makes the client attest again before fetching") {
  Fixture f;
  KbsClient client(f.net, f.Options({"https://kbs-a.test"}), testing::FakeEvidenceProvider());
  REQUIRE(client.GetResource("default/key/disk").ok());
  f.clock.Advance(std::chrono::seconds(301));
  REQUIRE(client.GetResource("default/key/disk").ok());
  CHECK(f.a.attestations == 2);
}

TEST_CASE("A challenge without a session cookie is refused") {
  Fixture f;
  f.a.omit_cookie = true;
  KbsClient client(f.net, f.Options({"https://kbs-a.test"}), testing::FakeEvidenceProvider());
  auto r = client.Attest();
  REQUIRE(!r.ok());
  CHECK(r.status().ToString().find("no kbs-session-id cookie") != std::string::npos);
}

}  // namespace
}  // namespace cvm::evidence
