#include "luks/token.h"

#include <catch2/catch.hpp>
#include <string>

namespace cvm::luks {
namespace {

constexpr char kUuid[] = "0b8e4a1c-1d2e-4f60-8a9b-0c1d2e3f4a5b";

std::string TokenWith(const std::string& extra) {
  return std::string(R"({"type":"cvm","keyslots":["1","0"],"resource":"data-disk","uuid":")") +
         kUuid + "\"" + extra + "}";
}

std::string Error(const std::string& json) {
  auto t = ParseToken(json);
  REQUIRE_FALSE(t.ok());
  CHECK(t.status().code() == Code::kInvalidInput);
  return t.status().ToString();
}

TEST_CASE("A well-formed cvm token parses with sorted keyslots and the default timeout") {
  auto t = ParseToken(TokenWith(""));
  REQUIRE(t.ok());
  CHECK(t->keyslots == std::vector<int>{0, 1});
  CHECK(t->resource == "data-disk");
  CHECK(t->uuid == kUuid);
  CHECK(t->timeout_seconds == kDefaultTimeoutSeconds);
  CHECK_FALSE(t->timeout_set);
}

TEST_CASE("A token's timeout is used when it lies within the hard maximum") {
  auto t = ParseToken(TokenWith(R"(,"timeout":5)"));
  REQUIRE(t.ok());
  CHECK(t->timeout_seconds == 5);
  CHECK(t->timeout_set);
  CHECK(Error(TokenWith(R"(,"timeout":601)")).find("outside 1..600") != std::string::npos);
  CHECK(Error(TokenWith(R"(,"timeout":0)")).find("outside") != std::string::npos);
  CHECK(Error(TokenWith(R"(,"timeout":-5)")).find("outside") != std::string::npos);
  CHECK(Error(TokenWith(R"(,"timeout":18446744073709551615)")).find("outside") !=
        std::string::npos);
  CHECK(Error(TokenWith(R"(,"timeout":1.5)")).find("whole number") != std::string::npos);
}

TEST_CASE("A token's UUID is compared in lower case") {
  auto t = ParseToken(
      R"({"type":"cvm","keyslots":["1"],"resource":"r","uuid":"0B8E4A1C-1D2E-4F60-8A9B-0C1D2E3F4A5B"})");
  REQUIRE(t.ok());
  CHECK(t->uuid == kUuid);
}

TEST_CASE("A token with an unknown key is refused, naming the key") {
  CHECK(Error(TokenWith(R"(,"url":"https://evil.example")")).find("unknown key 'url'") !=
        std::string::npos);
}

TEST_CASE("A token missing a field or of another type is refused, naming the field") {
  CHECK(Error(R"({"type":"cvm","keyslots":["1"],"resource":"r"})").find("uuid") !=
        std::string::npos);
  CHECK(Error(R"({"type":"cvm","keyslots":["1"],"uuid":"0b8e4a1c-1d2e-4f60-8a9b-0c1d2e3f4a5b"})")
            .find("resource is missing") != std::string::npos);
  CHECK(Error(TokenWith("").replace(9, 3, "tpm")).find("type is not") != std::string::npos);
  CHECK(Error("[]").find("not a JSON object") != std::string::npos);
  CHECK(Error("{").find("not valid JSON") != std::string::npos);
}

TEST_CASE("A token's keyslots must be distinct LUKS2 keyslot numbers") {
  auto with = [](const std::string& slots) {
    return std::string(R"({"type":"cvm","keyslots":)") + slots +
           R"(,"resource":"r","uuid":"0b8e4a1c-1d2e-4f60-8a9b-0c1d2e3f4a5b"})";
  };
  CHECK(Error(with("[]")).find("non-empty") != std::string::npos);
  CHECK(Error(with(R"(["1","1"])")).find("listed twice") != std::string::npos);
  CHECK(Error(with(R"(["32"])")).find("past the last") != std::string::npos);
  CHECK(Error(with(R"(["01"])")).find("not a keyslot number") != std::string::npos);
  CHECK(Error(with(R"([1])")).find("must be a string") != std::string::npos);
  CHECK(ParseToken(with(R"(["31"])")).ok());
}

TEST_CASE("A token's resource and UUID must be well formed") {
  CHECK(Error(std::string(R"({"type":"cvm","keyslots":["1"],"resource":"../etc","uuid":")") +
              kUuid + "\"}")
            .find("resource must be") != std::string::npos);
  CHECK(Error(R"({"type":"cvm","keyslots":["1"],"resource":"r","uuid":"not-a-uuid"})")
            .find("is not a UUID") != std::string::npos);
}

TEST_CASE("TokenJson writes what ParseToken reads back") {
  Token t;
  t.keyslots = {2, 5};
  t.resource = "disk";
  t.uuid = kUuid;
  t.timeout_seconds = 30;
  t.timeout_set = true;
  auto back = ParseToken(TokenJson(t));
  REQUIRE(back.ok());
  CHECK(back->keyslots == t.keyslots);
  CHECK(back->resource == "disk");
  CHECK(back->uuid == kUuid);
  CHECK(back->timeout_seconds == 30);
}

}  // namespace
}  // namespace cvm::luks
