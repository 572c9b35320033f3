#include "tests/rp/fakes.h"

#include "common/encoding.h"

namespace cvm::rp::testing {

using nlohmann::json;

Result<Appraisal> FakeAppraiser::Appraise(const AppraisalInput& input) const {
  calls_.fetch_add(1);
  Appraisal out;
  const json& e = input.primary_evidence;
  if (!e.is_object() || !e.contains("fake") || !e["fake"].is_object()) {
    out.reasons.push_back("primary_evidence is not fake evidence");
    return out;
  }
  const json& f = e["fake"];
  if (f.value("nonce", std::string()) != input.nonce) {
    out.reasons.push_back("REPORT_DATA does not bind the runtime data (nonce)");
  }
  if (!f.value("genuine", true)) out.reasons.push_back("report signature does not verify");
  auto& c = out.claims;
  c.tee = input.tee;
  c.debug = f.value("debug", false);
  c.simulated_root = f.value("simulated", false);
  c.guest_svn = f.value("guest_svn", 0u);
  auto hex = [&](const char* name) {
    auto b = HexDecode(f.value(name, std::string()));
    return b.ok() ? *b : Bytes{};
  };
  c.measurement = hex("measurement");
  c.host_data = hex("host_data");
  c.chip_id = hex("chip_id");
  if (f.contains("tcb")) {
    for (auto& [k, v] : f["tcb"].items()) c.tcb[k] = v.get<uint64_t>();
  }
  out.verified = out.reasons.empty();
  out.claims_json = {{"measurement", HexEncode(c.measurement)}, {"debug", c.debug}};
  return out;
}

namespace {
struct FakeKey final : SealingKey {
  explicit FakeKey(json j) : jwk(std::move(j)) {}
  const json jwk;
};
}  // namespace

Result<std::shared_ptr<const SealingKey>> FakeSealer::CheckKey(const json& jwk) const {
  if (!jwk.is_object()) return InvalidInput("not an object");
  for (auto& [k, v] : jwk.items()) {
    if (k != "kty" && k != "crv" && k != "alg" && k != "x" && k != "y") {
      return InvalidInput("unexpected JWK member \"" + k + "\"");
    }
  }
  if (jwk.value("kty", "") != "EC") return InvalidInput("kty is not EC");
  if (!jwk.contains("x") || !jwk.contains("y")) return InvalidInput("missing x or y");
  return std::shared_ptr<const SealingKey>(std::make_shared<FakeKey>(jwk));
}

Result<std::string> FakeSealer::Seal(const SealingKey& key, ByteSpan plaintext) const {
  const auto* fake = dynamic_cast<const FakeKey*>(&key);
  if (fake == nullptr) return Internal("not a key FakeSealer checked");
  return json{{"fake-jwe", Base64Encode(plaintext)}, {"to", fake->jwk["x"]}}.dump();
}

namespace {
constexpr std::string_view kSecret = "fake-signer-secret";
std::string Mac(std::string_view payload) {
  std::string input = std::string(kSecret) + std::string(payload);
  return HexEncode(Sha256(AsBytes(input)));
}
}  // namespace

Result<std::string> FakeSigner::Sign(const json& claims) const {
  std::string payload = Base64UrlEncode(AsBytes(claims.dump()));
  return payload + "." + Mac(payload);
}

Result<json> FakeSigner::Verify(std::string_view token, TimePoint now) const {
  size_t dot = token.find('.');
  if (dot == std::string_view::npos) return InvalidInput("not a token");
  std::string_view payload = token.substr(0, dot);
  if (Mac(payload) != token.substr(dot + 1)) return Rejected("bad signature");
  auto bytes = Base64UrlDecode(payload);
  if (!bytes.ok()) return InvalidInput("bad payload");
  json claims = json::parse(bytes->begin(), bytes->end(), nullptr, false);
  if (!claims.is_object()) return InvalidInput("bad payload");
  int64_t exp = claims.value("exp", int64_t{0});
  int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (t >= exp) return Rejected("token expired");
  return claims;
}

json TestJwk() {
  return {{"kty", "EC"},
          {"crv", "P-256"},
          {"alg", "ECDH-ES+A256KW"},
          {"x", "p99tUVzkQLPubx7e0ZHNVHBnxIAFi2mtakO9cGsNoBA"},
          {"y", "N7-qCNC6sxHBFkx65Anp3n1VXfLpKnWyPvXWuB4w4R0"}};
}

std::string AttestBody(const std::string& nonce, json fields, json jwk) {
  fields["nonce"] = nonce;
  json body = {
      {"init-data", nullptr},
      {"runtime-data", {{"nonce", nonce}, {"tee-pubkey", jwk}}},
      {"tee-evidence", {{"primary_evidence", {{"fake", fields}}}, {"additional_evidence", ""}}}};
  return body.dump();
}

json TokenClaims(const std::string& token) {
  auto bytes = Base64UrlDecode(token.substr(0, token.find('.')));
  if (!bytes.ok()) return json();
  return json::parse(bytes->begin(), bytes->end(), nullptr, false);
}

}  // namespace cvm::rp::testing
