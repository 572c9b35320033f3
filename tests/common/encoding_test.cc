#include "common/encoding.h"

#include <catch2/catch.hpp>

namespace cvm {
namespace {

TEST_CASE("Hex round-trips and encodes lowercase") {
  Bytes b = {0x00, 0xab, 0xff, 0x10};
  CHECK(HexEncode(b) == "00abff10");
  CHECK(*HexDecode("00ABff10") == b);
  CHECK(HexDecode("")->empty());
}

TEST_CASE("Bad hex is rejected with the position") {
  CHECK(HexDecode("abc").status().message() == "hex: odd number of digits (3)");
  CHECK(HexDecode("0g").status().message() == "hex: invalid character at position 1");
  CHECK_FALSE(HexDecode("0x00").ok());
  CHECK_FALSE(HexDecode("00 11").ok());
  CHECK(HexDecodeFixed("0011", 3).status().message() == "hex: expected 3 bytes, got 2");
}

TEST_CASE("Base64 matches RFC 4648 test vectors") {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    CHECK(Base64Encode(AsBytes(plain)) == encoded);
    auto decoded = Base64Decode(encoded);
    REQUIRE(decoded.ok());
    CHECK(AsChars(*decoded) == plain);
  }
}

TEST_CASE("Malformed base64 is rejected") {
  CHECK_FALSE(Base64Decode("Zm9").ok());     // length
  CHECK_FALSE(Base64Decode("Zm9v\n").ok());  // whitespace
  CHECK_FALSE(Base64Decode("Z=9v").ok());    // padding in the middle
  CHECK_FALSE(Base64Decode("Zm9-").ok());    // url alphabet
  CHECK_FALSE(Base64Decode("Zg=a").ok());    // data after padding
  CHECK_FALSE(Base64Decode("8bb=").ok());    // non-zero bits before the padding (found by fuzzing)
  CHECK_FALSE(Base64Decode("Zh==").ok());
  CHECK_FALSE(Base64UrlDecode("Zh").ok());
  CHECK(Base64Decode("Zm*v").status().message() == "base64: invalid character at position 2");
}

TEST_CASE("Base64url has no padding and the URL alphabet") {
  Bytes b = {0xfb, 0xff, 0xfe};
  CHECK(Base64UrlEncode(b) == "-__-");
  CHECK(*Base64UrlDecode("-__-") == b);
  CHECK(Base64UrlEncode(AsBytes("f")) == "Zg");
  CHECK(AsChars(*Base64UrlDecode("Zg")) == "f");
  CHECK(AsChars(*Base64UrlDecode("Zg==")) == "f");  // padded input is accepted
  CHECK_FALSE(Base64UrlDecode("+/").ok());
  CHECK_FALSE(Base64UrlDecode("Z").ok());
}

}  // namespace
}  // namespace cvm
