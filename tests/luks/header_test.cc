#include "luks/header.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

namespace cvm::luks {
namespace {

using nlohmann::json;

constexpr char kUuid[] = "0b8e4a1c-1d2e-4f60-8a9b-0c1d2e3f4a5b";
constexpr char kOtherUuid[] = "ffffffff-1d2e-4f60-8a9b-0c1d2e3f4a5b";

// What crypt_dump_json gives for a volume with keyslots 0 and 1 and one segment.
json Metadata() {
  json slot = {{"type", "luks2"},
               {"key_size", 64},
               {"area", {{"type", "raw"}, {"encryption", "aes-xts-plain64"}, {"key_size", 64}}}};
  return {{"keyslots", {{"0", slot}, {"1", slot}}},
          {"tokens", json::object()},
          {"segments",
           {{"0",
             {{"type", "crypt"},
              {"offset", "16777216"},
              {"size", "dynamic"},
              {"encryption", "aes-xts-plain64"}}}}},
          {"digests", json::object()},
          {"config", json::object()}};
}

Token BoundToken() {
  Token t;
  t.keyslots = {1};
  t.resource = "disk";
  t.uuid = kUuid;
  return t;
}

std::string Refusal(const json& meta, std::string_view uuid = kUuid, HeaderPolicy policy = {}) {
  auto r = CheckHeader(meta.dump(), uuid, BoundToken(), policy);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kRejected);
  return r.status().ToString();
}

TEST_CASE("A header with an encrypting segment and keyslot and the bound UUID passes") {
  auto r = CheckHeader(Metadata().dump(), "0B8E4A1C-1D2E-4F60-8A9B-0C1D2E3F4A5B", BoundToken(),
                       HeaderPolicy{{"aes-xts-plain64"}});
  REQUIRE(r.ok());
  CHECK(r->uuid == kUuid);
  CHECK(r->ciphers == std::vector<std::string>{"aes-xts-plain64"});
}

TEST_CASE("A segment switched to cipher_null is refused whatever the allow list says") {
  json meta = Metadata();
  meta["segments"]["0"]["encryption"] = "cipher_null-ecb";
  std::string e = Refusal(meta, kUuid, HeaderPolicy{{"cipher_null-ecb"}});
  CHECK(e.find("segment 0 uses cipher_null-ecb: it does not encrypt") != std::string::npos);
}

TEST_CASE("A null cipher in a keyslot the token names is refused") {
  json meta = Metadata();
  meta["keyslots"]["1"]["area"]["encryption"] = "capi:ecb(cipher_null)";
  CHECK(Refusal(meta).find("keyslot 1 uses capi:ecb(cipher_null)") != std::string::npos);
}

TEST_CASE("A linear (unencrypted) segment is refused") {
  json meta = Metadata();
  meta["segments"]["1"] = {{"type", "linear"}, {"offset", "0"}, {"size", "dynamic"}};
  CHECK(Refusal(meta).find("segment 1 is of type linear, not crypt") != std::string::npos);
}

TEST_CASE("A cipher outside the allow list is refused, naming it") {
  json meta = Metadata();
  meta["segments"]["0"]["encryption"] = "aes-cbc-plain";
  CHECK(Refusal(meta, kUuid, HeaderPolicy{{"aes-xts-plain64"}})
            .find("segment 0 uses aes-cbc-plain, which is not in the allowed ciphers") !=
        std::string::npos);
}

TEST_CASE("A header whose UUID differs from the one recorded at bind time is refused") {
  CHECK(Refusal(Metadata(), kOtherUuid).find("differs from the UUID " + std::string(kUuid)) !=
        std::string::npos);
}

TEST_CASE("Every violation of a header is reported, not just the first") {
  json meta = Metadata();
  meta["segments"]["0"]["encryption"] = "cipher_null";
  meta["keyslots"].erase("1");
  std::string e = Refusal(meta, kOtherUuid);
  CHECK(e.find("keyslot 1 does not exist") != std::string::npos);
  CHECK(e.find("segment 0 uses cipher_null") != std::string::npos);
  CHECK(e.find("differs from the UUID") != std::string::npos);
}

TEST_CASE("Keyslots the token does not name are not checked") {
  json meta = Metadata();
  meta["keyslots"]["0"]["area"]["encryption"] = "twofish-xts-plain64";
  CHECK(CheckHeader(meta.dump(), kUuid, BoundToken(), HeaderPolicy{{"aes-xts-plain64"}}).ok());
}

TEST_CASE("Malformed header metadata is invalid input, not a crash") {
  for (const char* bad : {"", "[]", "{\"keyslots\":{}}", "{\"keyslots\":[],\"segments\":{}}",
                          "{\"keyslots\":{},\"segments\":7}"}) {
    auto r = CheckHeader(bad, kUuid, BoundToken(), {});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidInput);
  }
  json meta = Metadata();
  meta["segments"] = json::object();
  CHECK(Refusal(meta).find("no data segment") != std::string::npos);
  meta = Metadata();
  meta["segments"]["0"].erase("encryption");
  CHECK(Refusal(meta).find("segment 0 has no cipher") != std::string::npos);
  meta = Metadata();
  meta["keyslots"]["1"] = 5;
  CHECK(Refusal(meta).find("keyslot 1 is not a luks2 keyslot") != std::string::npos);
  CHECK(CheckHeader(Metadata().dump(), "nope", BoundToken(), {}).status().code() ==
        Code::kInvalidInput);
}

TEST_CASE("Null ciphers are recognised in every spelling libcryptsetup accepts") {
  CHECK(IsNullCipher("cipher_null"));
  CHECK(IsNullCipher("cipher_null-ecb"));
  CHECK(IsNullCipher("CIPHER_NULL-ecb"));
  CHECK(IsNullCipher("capi:ecb(cipher_null)"));
  CHECK(IsNullCipher("null"));
  CHECK(IsNullCipher(""));
  CHECK_FALSE(IsNullCipher("aes-xts-plain64"));
}

}  // namespace
}  // namespace cvm::luks
