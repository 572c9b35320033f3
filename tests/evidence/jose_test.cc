// JOSE: RFC 7516/7518 vectors with fixed keys, JWE both directions (ours and José's decryption
// path), tampering, strict JWK parsing, and the ES256 token.
#include "evidence/jose.h"

#include <catch2/catch.hpp>
#include <type_traits>

#include "common/encoding.h"
#include "common/keys.h"
#include "evidence/jose_internal.h"
#include "tests/evidence/ec_test_keys.h"

namespace cvm::evidence {
namespace {

using nlohmann::json;

Bytes B64u(std::string_view s) {
  auto b = Base64UrlDecode(s);
  REQUIRE(b.ok());
  return *b;
}

std::string Str(const SecretBytes& s) { return std::string(AsChars(s.view())); }

TEST_CASE("Concat KDF reproduces RFC 7518 Appendix C from the ECDH of its fixed keys") {
  // Bob's static key and Alice's ephemeral key (RFC 7518 C).
  ossl::PKey bob =
      testing::EcPrivateKeyB64("prime256v1", "VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw");
  auto alice_pub =
      EcPublicKeyFromXY(Curve::kP256, B64u("gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0"),
                        B64u("SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps"));
  REQUIRE(alice_pub.ok());
  ossl::PKeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, bob.get(), nullptr));
  REQUIRE(EVP_PKEY_derive_init(ctx.get()) == 1);
  REQUIRE(EVP_PKEY_derive_set_peer(ctx.get(), alice_pub->get()) == 1);
  Bytes z(32);
  size_t len = z.size();
  REQUIRE(EVP_PKEY_derive(ctx.get(), z.data(), &len) == 1);
  CHECK(z == Bytes{158, 86, 217, 29,  129, 113, 53,  211, 114, 131, 66,  131, 191, 132, 38,  156,
                   251, 49, 110, 163, 218, 128, 106, 72,  246, 218, 167, 121, 140, 254, 144, 196});
  auto derived = internal::ConcatKdfSha256(z, "A128GCM", AsBytes("Alice"), AsBytes("Bob"), 16);
  REQUIRE(derived.ok());
  CHECK(Base64UrlEncode(derived->view()) == "VqqN6vgjbSBcIijNcacQGg");
}

TEST_CASE("AES key wrap reproduces RFC 7516 Appendix A.3 and unwraps it") {
  Bytes kek = B64u("GawgguFyGrWKav7AX4VKUg");
  Bytes cek = {4,   211, 31,  197, 84,  157, 252, 254, 11,  100, 157, 250, 63,  170, 106, 206,
               107, 124, 212, 45,  111, 107, 9,   219, 200, 177, 0,   240, 143, 156, 44,  207};
  auto wrapped = internal::AesKeyWrap(kek, cek);
  REQUIRE(wrapped.ok());
  CHECK(Base64UrlEncode(*wrapped) == "6KB707dM9YTIgHtLvtgWQ8mKwboJW3of9locizkDTHzBC2IlrT1oOQ");
  auto unwrapped = internal::AesKeyUnwrap(kek, *wrapped);
  REQUIRE(unwrapped.ok());
  CHECK(ToBytes(unwrapped->view()) == cek);
  (*wrapped)[3] ^= 1;
  CHECK(internal::AesKeyUnwrap(kek, *wrapped).status().code() == Code::kRejected);
}

TEST_CASE("A JWE round-trips for P-256, P-521 and RSA-2048 keys, plaintext in SecretBytes") {
  static_assert(
      std::is_same_v<decltype(std::declval<TeeKeyPair>().Decrypt("")), Result<SecretBytes>>);
  for (TeeKeyType type : {TeeKeyType::kEcP256, TeeKeyType::kEcP521, TeeKeyType::kRsa2048}) {
    auto pair = TeeKeyPair::Generate(type);
    REQUIRE(pair.ok());
    auto recipient = ParseTeePublicJwk(pair->PublicJwk());
    REQUIRE(recipient.ok());
    CHECK(recipient->type == type);
    auto jwe = EncryptJwe(*recipient, AsBytes("the secret"));
    REQUIRE(jwe.ok());
    auto plain = pair->Decrypt(*jwe);
    REQUIRE(plain.ok());
    CHECK(Str(*plain) == "the secret");
  }
}

TEST_CASE("The JWE has Trustee's flattened shape and compact protected header") {
  auto pair = TeeKeyPair::Generate(TeeKeyType::kEcP256);
  REQUIRE(pair.ok());
  auto jwe_text = EncryptJwe(*ParseTeePublicJwk(pair->PublicJwk()), AsBytes("x"));
  REQUIRE(jwe_text.ok());
  json jwe = json::parse(*jwe_text);
  CHECK(jwe.size() == 5);
  for (const char* m : {"protected", "encrypted_key", "iv", "ciphertext", "tag"}) {
    REQUIRE(jwe.contains(m));
    CHECK(jwe[m].get<std::string>().find('=') == std::string::npos);
  }
  CHECK(B64u(jwe["encrypted_key"].get<std::string>()).size() == 40);
  CHECK(B64u(jwe["iv"].get<std::string>()).size() == 12);
  CHECK(B64u(jwe["tag"].get<std::string>()).size() == 16);
  std::string header(AsChars(B64u(jwe["protected"].get<std::string>())));
  json h = json::parse(header);
  std::string expected =
      R"({"alg":"ECDH-ES+A256KW","enc":"A256GCM","epk":{"crv":"P-256","kty":"EC","x":")" +
      h["epk"]["x"].get<std::string>() + R"(","y":")" + h["epk"]["y"].get<std::string>() + R"("}})";
  CHECK(header == expected);
  CHECK(B64u(h["epk"]["x"].get<std::string>()).size() == 32);

  auto rsa = TeeKeyPair::Generate(TeeKeyType::kRsa2048);
  REQUIRE(rsa.ok());
  json rsa_jwe = json::parse(*EncryptJwe(*ParseTeePublicJwk(rsa->PublicJwk()), AsBytes("x")));
  CHECK(std::string(AsChars(B64u(rsa_jwe["protected"].get<std::string>()))) ==
        R"({"alg":"RSA-OAEP-256","enc":"A256GCM"})");
}

TEST_CASE("José's own JWE decryption accepts our JWEs (same KDF and AAD)") {
  for (TeeKeyType type : {TeeKeyType::kEcP256, TeeKeyType::kEcP521}) {
    auto pair = TeeKeyPair::Generate(type);
    REQUIRE(pair.ok());
    auto jwe = EncryptJwe(*ParseTeePublicJwk(pair->PublicJwk()), AsBytes("cross-checked"));
    REQUIRE(jwe.ok());
    auto plain = internal::JoseLibraryDecrypt(*pair, *jwe);
    REQUIRE(plain.ok());
    CHECK(Str(*plain) == "cross-checked");
  }
}

// Replaces the first character of member `m` with another base64url character.
std::string Tamper(const std::string& jwe_text, const char* m) {
  json jwe = json::parse(jwe_text);
  std::string v = jwe[m].get<std::string>();
  v[0] = v[0] == 'A' ? 'B' : 'A';
  jwe[m] = v;
  return jwe.dump();
}

TEST_CASE("A tampered iv, ciphertext, tag or encrypted key is rejected") {
  auto pair = TeeKeyPair::Generate(TeeKeyType::kEcP256);
  REQUIRE(pair.ok());
  auto jwe = EncryptJwe(*ParseTeePublicJwk(pair->PublicJwk()), AsBytes("tamper me please"));
  REQUIRE(jwe.ok());
  for (const char* m : {"iv", "ciphertext", "tag", "encrypted_key"}) {
    INFO(m);
    CHECK(pair->Decrypt(Tamper(*jwe, m)).status().code() == Code::kRejected);
  }
}

TEST_CASE("The AAD is the received protected string: a re-encoded equal header is rejected") {
  auto pair = TeeKeyPair::Generate(TeeKeyType::kEcP256);
  REQUIRE(pair.ok());
  auto text = EncryptJwe(*ParseTeePublicJwk(pair->PublicJwk()), AsBytes("aad"));
  REQUIRE(text.ok());
  json jwe = json::parse(*text);
  json header = json::parse(AsChars(B64u(jwe["protected"].get<std::string>())));
  jwe["protected"] = Base64UrlEncode(AsBytes(header.dump(1)));  // same members, other bytes
  CHECK(pair->Decrypt(jwe.dump()).status().code() == Code::kRejected);
  // A header changed in content (another enc) is refused too.
  header["enc"] = "A128GCM";
  jwe["protected"] = Base64UrlEncode(AsBytes(header.dump()));
  CHECK(!pair->Decrypt(jwe.dump()).ok());
}

TEST_CASE("A JWE for another curve or another key is rejected") {
  auto p256 = TeeKeyPair::Generate(TeeKeyType::kEcP256);
  auto p521 = TeeKeyPair::Generate(TeeKeyType::kEcP521);
  auto other = TeeKeyPair::Generate(TeeKeyType::kEcP256);
  REQUIRE((p256.ok() && p521.ok() && other.ok()));
  auto to521 = EncryptJwe(*ParseTeePublicJwk(p521->PublicJwk()), AsBytes("x"));
  auto to256 = EncryptJwe(*ParseTeePublicJwk(p256->PublicJwk()), AsBytes("x"));
  REQUIRE((to521.ok() && to256.ok()));
  auto wrong_curve = p256->Decrypt(*to521);
  CHECK(wrong_curve.status().code() == Code::kRejected);
  CHECK(wrong_curve.status().ToString().find("curve") != std::string::npos);
  CHECK(other->Decrypt(*to256).status().code() == Code::kRejected);
  auto rsa = TeeKeyPair::Generate(TeeKeyType::kRsa2048);
  REQUIRE(rsa.ok());
  CHECK(rsa->Decrypt(*to256).status().code() == Code::kRejected);
}

TEST_CASE("Malformed JWEs are refused as invalid input") {
  auto pair = TeeKeyPair::Generate(TeeKeyType::kEcP256);
  REQUIRE(pair.ok());
  json jwe = json::parse(*EncryptJwe(*ParseTeePublicJwk(pair->PublicJwk()), AsBytes("x")));
  CHECK(pair->Decrypt("not json").status().code() == Code::kInvalidInput);
  json missing = jwe;
  missing.erase("tag");
  CHECK(pair->Decrypt(missing.dump()).status().code() == Code::kInvalidInput);
  json extra = jwe;
  extra["header"] = json::object();
  CHECK(pair->Decrypt(extra.dump()).status().code() == Code::kInvalidInput);
  json padded = jwe;
  padded["iv"] = padded["iv"].get<std::string>() + "=";
  CHECK(pair->Decrypt(padded.dump()).status().code() == Code::kInvalidInput);
  json null_aad = jwe;
  null_aad["aad"] = nullptr;
  CHECK(pair->Decrypt(null_aad.dump()).ok());
}

TEST_CASE("A TEE JWK with exactly Trustee's members parses; anything else is refused") {
  auto pair = TeeKeyPair::Generate(TeeKeyType::kEcP256);
  REQUIRE(pair.ok());
  json jwk = pair->PublicJwk();
  CHECK(jwk.size() == 5);
  CHECK(jwk["alg"] == "ECDH-ES+A256KW");
  REQUIRE(ParseTeePublicJwk(jwk).ok());

  auto refused = [](json j, std::string_view why) {
    auto r = ParseTeePublicJwk(j);
    REQUIRE(r.status().code() == Code::kInvalidInput);
    CHECK(r.status().ToString().find(why) != std::string::npos);
  };
  json extra = jwk;
  extra["kid"] = "k";
  refused(extra, "unexpected member \"kid\"");
  json no_alg = jwk;
  no_alg.erase("alg");
  refused(no_alg, "alg");
  json padded = jwk;
  padded["x"] = padded["x"].get<std::string>() + "=";
  refused(padded, "padded");
  json short_x = jwk;
  short_x["x"] = Base64UrlEncode(Bytes(31, 1));
  refused(short_x, "31 bytes");
  json off_curve = jwk;
  off_curve["y"] = Base64UrlEncode(Bytes(32, 7));
  refused(off_curve, "curve");
  json p384 = jwk;
  p384["crv"] = "P-384";
  refused(p384, "P-384");
  json alg = jwk;
  alg["alg"] = "ECDH-ES";
  refused(alg, "ECDH-ES");
}

TEST_CASE("An RSA TEE JWK carries kty, alg, n and e with minimal e") {
  auto pair = TeeKeyPair::Generate(TeeKeyType::kRsa2048);
  REQUIRE(pair.ok());
  json jwk = pair->PublicJwk();
  CHECK(jwk["kty"] == "RSA");
  CHECK(jwk["alg"] == "RSA-OAEP-256");
  CHECK(jwk["e"] == "AQAB");
  CHECK(ParseTeePublicJwk(jwk).ok());
  json padded_e = jwk;
  padded_e["e"] = Base64UrlEncode(Bytes{0, 1, 0, 1});
  CHECK(!ParseTeePublicJwk(padded_e).ok());
}

TEST_CASE("An ES256 JWT signs and verifies with the configured key only") {
  auto key = LoadTokenSigningKey("");
  REQUIRE(key.ok());
  int64_t now = 1'800'000'000;
  TimePoint t{std::chrono::seconds(now)};
  json claims{{"iat", now}, {"exp", now + 300}, {"iss", "test"}};
  auto token = SignJwt(key->get(), claims);
  REQUIRE(token.ok());
  auto decoded = DecodeJwt(*token);
  REQUIRE(decoded.ok());
  CHECK(decoded->header["alg"] == "ES256");
  CHECK(decoded->header["typ"] == "JWT");
  CHECK(decoded->header["jwk"] == *EcPublicJwk(key->get()));
  CHECK(decoded->claims == claims);

  CHECK(VerifyJwt(*token, key->get(), t).ok());
  auto other = LoadTokenSigningKey("");
  REQUIRE(other.ok());
  CHECK(VerifyJwt(*token, other->get(), t).status().code() == Code::kRejected);
  CHECK(VerifyJwt(*token, key->get(), t + std::chrono::seconds(300)).status().code() ==
        Code::kRejected);

  auto later = SignJwt(key->get(), json{{"exp", now + 600}, {"nbf", now + 60}});
  REQUIRE(later.ok());
  auto early = VerifyJwt(*later, key->get(), t);
  CHECK(early.status().code() == Code::kRejected);
  CHECK(early.status().ToString().find("not valid before") != std::string::npos);
  CHECK(VerifyJwt(*later, key->get(), t + std::chrono::seconds(61)).ok());
}

TEST_CASE("An Es256Signer's tokens carry a 64-byte R||S signature that José verifies") {
  auto key = LoadTokenSigningKey("");
  REQUIRE(key.ok());
  auto public_jwk = EcPublicJwk(key->get());
  REQUIRE(public_jwk.ok());
  auto signer = Es256Signer::Create(std::move(key).value());
  REQUIRE(signer.ok());
  int64_t now = 1'800'000'000;
  TimePoint t{std::chrono::seconds(now)};
  for (int i = 0; i < 2; ++i) {  // the header is encoded once, the signature is fresh each time
    json claims{{"exp", now + 300}, {"n", i}};
    auto token = signer->Sign(claims);
    REQUIRE(token.ok());
    auto verified = VerifyJwt(*token, signer->key(), t);  // José's jose_jws_ver
    REQUIRE(verified.ok());
    CHECK(verified->claims == claims);
    CHECK(verified->header == json{{"alg", "ES256"}, {"typ", "JWT"}, {"jwk", *public_jwk}});
    auto signature = Base64UrlDecode(token->substr(token->rfind('.') + 1));
    REQUIRE(signature.ok());
    CHECK(signature->size() == 64);
  }
  CHECK(signer->Sign(json::array()).status().code() == Code::kInvalidInput);
  auto p384 = GenerateEcKey(Curve::kP384);
  REQUIRE(p384.ok());
  CHECK(Es256Signer::Create(std::move(p384).value()).status().code() == Code::kInvalidInput);
}

TEST_CASE("A tampered or unsigned JWT is rejected") {
  auto key = LoadTokenSigningKey("");
  REQUIRE(key.ok());
  TimePoint t{std::chrono::seconds(1'800'000'000)};
  auto token = SignJwt(key->get(), json{{"exp", 1'800'000'300}, {"admin", false}});
  REQUIRE(token.ok());
  size_t dot1 = token->find('.');
  size_t dot2 = token->find('.', dot1 + 1);
  std::string forged_payload =
      Base64UrlEncode(AsBytes(json{{"exp", 1'800'000'300}, {"admin", true}}.dump()));
  std::string forged = token->substr(0, dot1 + 1) + forged_payload + token->substr(dot2);
  CHECK(VerifyJwt(forged, key->get(), t).status().code() == Code::kRejected);
  std::string none_header = Base64UrlEncode(AsBytes(R"({"alg":"none"})"));
  std::string unsigned_token = none_header + "." + forged_payload + ".";
  CHECK(!VerifyJwt(unsigned_token, key->get(), t).ok());
  CHECK(DecodeJwt("a.b").status().code() == Code::kInvalidInput);
  CHECK(DecodeJwt("a.b.c.d").status().code() == Code::kInvalidInput);
  auto no_exp = SignJwt(key->get(), json{{"iss", "x"}});
  REQUIRE(no_exp.ok());
  CHECK(VerifyJwt(*no_exp, key->get(), t).status().code() == Code::kRejected);
}

TEST_CASE("The token signing key loads from PEM and must be P-256") {
  auto key = LoadTokenSigningKey("");
  REQUIRE(key.ok());
  auto pem = PrivateKeyToPem(key->get());
  REQUIRE(pem.ok());
  CHECK(LoadTokenSigningKey(pem->chars()).ok());
  auto p384 = GenerateEcKey(Curve::kP384);
  REQUIRE(p384.ok());
  CHECK(LoadTokenSigningKey(PrivateKeyToPem(p384->get())->chars()).status().code() ==
        Code::kInvalidInput);
}

}  // namespace
}  // namespace cvm::evidence
