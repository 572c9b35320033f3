// The KBS protocol messages, JCS and the REPORT_DATA binding, checked against the wire facts in
// ../shared/reference/kbs-protocol.md (Trustee 78962cd, kbs-types 0.16/0.18).
#include "evidence/kbs.h"

#include <catch2/catch.hpp>

#include "common/encoding.h"
#include "evidence/jose.h"
#include "tests/evidence/ec_test_keys.h"

namespace cvm::evidence {
namespace {

using nlohmann::json;

// kbs-protocol.md section b, worked example.
constexpr std::string_view kWorkedD =
    "595a5adbec0747f02af740692d7bdfb9c1a576a77c7bdb41601065738e639285";
constexpr std::string_view kWorkedNonce = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
constexpr std::string_view kWorkedJcs =
    R"({"additional-evidence":"","nonce":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",)"
    R"("tee-pubkey":{"alg":"ECDH-ES+A256KW","crv":"P-256","kty":"EC",)"
    R"("x":"p99tUVzkQLPubx7e0ZHNVHBnxIAFi2mtakO9cGsNoBA",)"
    R"("y":"N7-qCNC6sxHBFkx65Anp3n1VXfLpKnWyPvXWuB4w4R0"}})";
constexpr std::string_view kWorkedSha384 =
    "6c9b0ea6fbe4e87858d8d099d32daec265cc752255ee432593586b799bc4ec0bba143abcfbc25cbd9333935169d2a2"
    "5c";
constexpr std::string_view kWorkedSha512 =
    "0d1a96a3bde9463f14fb93c77a281d320603d5d59acbbc04c672d5a2104e5dfcdb2ace6fc270096be07710f05401ec"
    "822486480e7ea6c3a75f47514b1da8ed8e";

json WorkedJwk() {
  auto pair = TeeKeyPair::FromPrivateKey(testing::EcPrivateKey("prime256v1", kWorkedD));
  REQUIRE(pair.ok());
  return pair->PublicJwk();
}

TEST_CASE("JCS reproduces Trustee's own test vector byte for byte") {
  auto text = CanonicalJson(json::parse(R"({"b":1,"a":"test","c":{"d":"e"}})"));
  REQUIRE(text.ok());
  CHECK(*text == R"({"a":"test","b":1,"c":{"d":"e"}})");
  CHECK(HexEncode(Sha384(AsBytes(*text))) ==
        "e71ce8e70d814ba6639c3612ebee0ff1f76f650f8dbb5e47157e0f3f525cd22c4597480a186427c813ca941da7"
        "8870c3");
}

TEST_CASE("The worked binding example gives the exact JCS text, SHA-384 and SHA-512") {
  json jwk = WorkedJwk();
  json rt{{"tee-pubkey", jwk}, {"nonce", kWorkedNonce}, {"additional-evidence", ""}};
  auto text = CanonicalJson(rt);
  REQUIRE(text.ok());
  CHECK(*text == kWorkedJcs);

  auto d384 = RuntimeDataDigest(DigestAlg::kSha384, kWorkedNonce, jwk, "");
  REQUIRE(d384.ok());
  CHECK(HexEncode(*d384) == kWorkedSha384);
  Bytes report_data = PadReportData(*d384);
  REQUIRE(report_data.size() == 64);
  CHECK(HexEncode(report_data) == std::string(kWorkedSha384) + std::string(32, '0'));

  auto d512 = RuntimeDataDigest(DigestAlg::kSha512, kWorkedNonce, jwk, "");
  REQUIRE(d512.ok());
  CHECK(HexEncode(*d512) == kWorkedSha512);
  CHECK(PadReportData(*d512) == *d512);
}

TEST_CASE("The additional-device binding leaves the additional-evidence member out") {
  json jwk = WorkedJwk();
  auto with = RuntimeDataDigest(DigestAlg::kSha384, kWorkedNonce, jwk, "", true);
  auto without = RuntimeDataDigest(DigestAlg::kSha384, kWorkedNonce, jwk, "", false);
  REQUIRE(with.ok());
  REQUIRE(without.ok());
  json rt{{"nonce", kWorkedNonce}, {"tee-pubkey", jwk}};
  CHECK(*without == Sha384(AsBytes(*CanonicalJson(rt))));
  CHECK(*with != *without);
}

TEST_CASE("JCS escapes strings as RFC 8785 does and sorts keys by UTF-16 code units") {
  auto text = CanonicalJson(json::parse(
      R"({"\ufb01":1,"\ud83d\ude00":2,"\r":3,"1":[true,null,"a\u0001\"\\\/\u007f\u00e9"]})"));
  REQUIRE(text.ok());
  // UTF-16 order: U+000D < "1" < U+1F600 (0xD83D 0xDE00) < U+FB01, although U+FB01 comes
  // before U+1F600 in UTF-8 byte order.
  CHECK(*text ==
        "{\"\\r\":3,\"1\":[true,null,\"a\\u0001\\\"\\\\/\x7f\xc3\xa9\"],"
        "\"\xf0\x9f\x98\x80\":2,\"\xef\xac\x81\":1}");
}

TEST_CASE("JCS refuses floating-point numbers and invalid UTF-8") {
  CHECK(CanonicalJson(json::parse("[1.5]")).status().code() == Code::kInvalidInput);
  CHECK(CanonicalJson(json(std::string("\xff"))).status().code() == Code::kInvalidInput);
  CHECK(CanonicalJson(json::parse("[-5, 18446744073709551615]")).value() ==
        "[-5,18446744073709551615]");
}

TEST_CASE("A request serialises with the three required members") {
  KbsRequest request;
  request.tee = "snp";
  request.supported_hash_algorithms = {"sha256", "sha384", "sha512"};
  CHECK(ToJson(request) ==
        json::parse(R"({"version":"0.4.0","tee":"snp","extra-params":)"
                    R"({"supported-hash-algorithms":["sha256","sha384","sha512"]}})"));
  auto parsed = ParseKbsRequest(ToJson(request).dump());
  REQUIRE(parsed.ok());
  CHECK(parsed->tee == "snp");
  CHECK(parsed->version == "0.4.0");
  CHECK(parsed->supported_hash_algorithms.size() == 3);
}

TEST_CASE("A request missing any member or with the wrong types is refused") {
  CHECK(!ParseKbsRequest(R"({"tee":"snp","extra-params":""})").ok());
  CHECK(!ParseKbsRequest(R"({"version":"0.4.0","extra-params":""})").ok());
  auto missing = ParseKbsRequest(R"({"version":"0.4.0","tee":"snp"})");
  CHECK(missing.status().code() == Code::kInvalidInput);
  CHECK(missing.status().ToString().find("extra-params") != std::string::npos);
  CHECK(!ParseKbsRequest(R"({"version":4,"tee":"snp","extra-params":""})").ok());
  CHECK(!ParseKbsRequest(R"([])").ok());
  CHECK(!ParseKbsRequest(R"({"version":"0.4.0","tee":"snp","tee":"tdx","extra-params":""})").ok());
  // extra-params is any JSON value in kbs-types: the empty string is fine.
  CHECK(ParseKbsRequest(R"({"version":"0.4.0","tee":"tdx","extra-params":""})").ok());
}

TEST_CASE("A challenge's extra-params is the empty string or selects a hash") {
  KbsChallenge plain{"bm9uY2U=", std::nullopt};
  CHECK(ToJson(plain) == json::parse(R"({"nonce":"bm9uY2U=","extra-params":""})"));
  KbsChallenge se{"bm9uY2U=", DigestAlg::kSha512};
  CHECK(ToJson(se) ==
        json::parse(R"({"nonce":"bm9uY2U=","extra-params":{"selected-hash-algorithm":"sha512"}})"));

  auto a = ParseKbsChallenge(R"({"nonce":"abc","extra-params":""})");
  REQUIRE(a.ok());
  CHECK(!a->selected_hash);
  auto b =
      ParseKbsChallenge(R"({"nonce":"abc","extra-params":{"selected-hash-algorithm":"SHA256"}})");
  REQUIRE(b.ok());
  CHECK(b->selected_hash == DigestAlg::kSha256);
  CHECK(!ParseKbsChallenge(R"({"nonce":"abc"})").ok());
  CHECK(!ParseKbsChallenge(R"({"extra-params":""})").ok());
  CHECK(ParseKbsChallenge(R"({"nonce":"abc","extra-params":{"selected-hash-algorithm":"sm3"}})")
            .status()
            .code() == Code::kUnsupported);
  CHECK(!ParseKbsChallenge(R"({"nonce":"abc","extra-params":{"selected-hash-algorithm":"md5"}})")
             .ok());
}

TEST_CASE("An attestation uses kebab-case outside and snake_case inside tee-evidence") {
  KbsAttestation att;
  att.nonce = "n";
  att.tee_pubkey = json{{"kty", "EC"}};
  att.primary_evidence = json{{"quote", "AA=="}, {"cc_eventlog", nullptr}};
  att.additional_evidence = "";
  json j = ToJson(att);
  CHECK(j ==
        json::parse(R"({"init-data":null,"runtime-data":{"nonce":"n","tee-pubkey":{"kty":"EC"}},
    "tee-evidence":{"primary_evidence":{"quote":"AA==","cc_eventlog":null},"additional_evidence":""}})"));
  auto parsed = ParseKbsAttestation(j.dump());
  REQUIRE(parsed.ok());
  CHECK(!parsed->init_data);
  CHECK(parsed->nonce == "n");
  CHECK(parsed->primary_evidence == att.primary_evidence);

  att.init_data = InitData{"toml", "algorithm = \"sha384\"\n"};
  auto with_init = ParseKbsAttestation(ToJson(att).dump());
  REQUIRE(with_init.ok());
  REQUIRE(with_init->init_data);
  CHECK(with_init->init_data->body == "algorithm = \"sha384\"\n");
}

TEST_CASE("An attestation missing a required member is refused naming it") {
  auto check = [](std::string_view body, std::string_view member) {
    auto r = ParseKbsAttestation(body);
    REQUIRE(r.status().code() == Code::kInvalidInput);
    CHECK(r.status().ToString().find(member) != std::string::npos);
  };
  check(R"({"tee-evidence":{"primary_evidence":{},"additional_evidence":""}})", "runtime-data");
  check(R"({"runtime-data":{"nonce":"n","tee-pubkey":{}}})", "tee-evidence");
  check(
      R"({"runtime-data":{"tee-pubkey":{}},"tee-evidence":{"primary_evidence":{},"additional_evidence":""}})",
      "nonce");
  check(R"({"runtime-data":{"nonce":"n","tee-pubkey":{}},"tee-evidence":{"primary_evidence":{}}})",
        "additional_evidence");
  // additional_evidence is a string, not an object (kbs-protocol.md pitfall 2).
  check(
      R"({"runtime-data":{"nonce":"n","tee-pubkey":{}},"tee-evidence":{"primary_evidence":{},"additional_evidence":{}}})",
      "additional_evidence");
  // kebab-case names inside tee-evidence are not Trustee's.
  check(
      R"({"runtime-data":{"nonce":"n","tee-pubkey":{}},"tee-evidence":{"primary-evidence":{},"additional-evidence":""}})",
      "primary_evidence");
}

TEST_CASE("Error bodies round-trip and expose the Trustee variant") {
  KbsError e = MakeKbsError("PolicyDeny", "Access denied by policy");
  CHECK(e.type == "https://github.com/confidential-containers/kbs/errors/PolicyDeny");
  auto parsed = ParseKbsError(ToJson(e).dump());
  REQUIRE(parsed.ok());
  CHECK(parsed->Variant() == "PolicyDeny");
  CHECK(parsed->detail == "Access denied by policy");
  CHECK(!ParseKbsError(R"({"type":"x"})").ok());
  CHECK(!ParseKbsError("<html>").ok());
}

TEST_CASE("TEE kinds and hash names follow kbs-types") {
  CHECK(TeeKindName(TeeKind::kAzSnpVtpm) == "az-snp-vtpm");
  CHECK(ParseTeeKind("az-tdx-vtpm").value() == TeeKind::kAzTdxVtpm);
  CHECK(ParseTeeKind("sgx").status().code() == Code::kUnsupported);
  CHECK(ParseTeeKind("SNP").status().code() == Code::kInvalidInput);
  CHECK(ParseKbsHashAlgorithm("sha384").value() == DigestAlg::kSha384);
  CHECK(KbsHashAlgorithmName(DigestAlg::kSha512) == "sha512");
}

TEST_CASE("The session cookie is read from Set-Cookie and Cookie headers") {
  auto id = SessionIdFromSetCookie(
      "kbs-session-id=0123456789abcdef0123456789abcdef; Expires=Sun, 29 Nov 2026 23:00:00 GMT");
  REQUIRE(id.ok());
  CHECK(id->value() == "0123456789abcdef0123456789abcdef");
  auto other = SessionIdFromSetCookie("foo=bar");
  REQUIRE(other.ok());
  CHECK(!other->has_value());
  CHECK(!SessionIdFromSetCookie("kbs-session-id=; Path=/").ok());
  CHECK(!SessionIdFromSetCookie("kbs-session-id=a\r\nX: y").ok());
  CHECK(SessionIdFromCookieHeader("a=b; kbs-session-id=abc").value() == "abc");
  CHECK(!SessionIdFromCookieHeader("a=b"));
}

TEST_CASE("Resource paths are three segments matching Trustee's pattern") {
  CHECK(ValidateResourcePath("default/key/one").ok());
  CHECK(ValidateResourcePath("my_repo/type-1/tag.v2").ok());
  CHECK(!ValidateResourcePath("default/key").ok());
  CHECK(!ValidateResourcePath("a/b/c/d").ok());
  CHECK(!ValidateResourcePath("a/../c").ok());
  CHECK(!ValidateResourcePath("a//c").ok());
  CHECK(!ValidateResourcePath("a/b/.hidden").ok());
  CHECK(!ValidateResourcePath("a/b/c?x=1").ok());
}

TEST_CASE("Deeply nested JSON is refused, not recursed into") {
  std::string deep(10000, '[');
  CHECK(ParseKbsAttestation(deep).status().code() == Code::kInvalidInput);
}

}  // namespace
}  // namespace cvm::evidence
