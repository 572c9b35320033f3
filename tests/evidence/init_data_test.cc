// Init-data TOML: parsing, the digest over the exact text, and how it fits the report's fields.
#include "evidence/init_data.h"

#include <catch2/catch.hpp>

#include "common/encoding.h"
#include "common/file_util.h"
#include "tests/testing/testing.h"

namespace cvm::evidence {
namespace {

Status ErrorOf(std::string_view text) { return ParseInitData(text).status(); }

bool Says(const Status& s, std::string_view needle) {
  return s.code() == Code::kInvalidInput && s.message().find(needle) != std::string::npos;
}

TEST_CASE("Init-data parses, and its digest is its algorithm over the exact text") {
  const std::string text = "version = \"0.1.0\"\nalgorithm = \"sha256\"\n[data]\nx = 'y'\n";
  auto p = ParseInitData(text);
  REQUIRE(p.ok());
  CHECK(p->version == "0.1.0");
  CHECK(p->algorithm == DigestAlg::kSha256);
  CHECK(p->digest == Sha256(AsBytes(text)));
  CHECK(p->data == nlohmann::json{{"x", "y"}});
  // The same document with other whitespace is other bytes, so another digest.
  auto spaced = ParseInitData(text + "\n");
  REQUIRE(spaced.ok());
  CHECK(spaced->digest != p->digest);
  for (auto [name, alg] :
       {std::pair{"sha384", DigestAlg::kSha384}, {"sha512", DigestAlg::kSha512}}) {
    std::string t = "version = \"0.1.0\"\nalgorithm = \"" + std::string(name) + "\"\n";
    auto q = ParseInitData(t);
    REQUIRE(q.ok());
    CHECK(q->digest == Digest(alg, AsBytes(t)));
    CHECK(q->data.empty());
  }
}

TEST_CASE("The example init-data in config/ parses") {
  auto text = ReadTextFile(cvm::testing::SourceDir() + "/config/init-data.example.toml");
  REQUIRE(text.ok());
  auto p = ParseInitData(*text);
  REQUIRE(p.ok());
  CHECK(p->algorithm == DigestAlg::kSha384);
  CHECK(p->data.contains("aa.toml"));
}

TEST_CASE("Malformed init-data is refused naming the problem") {
  CHECK(Says(ErrorOf("version = "), "not TOML"));
  CHECK(Says(ErrorOf("version = \n"), "line 1"));
  CHECK(Says(ErrorOf("algorithm = \"sha384\"\n"), "`version` is missing"));
  CHECK(Says(ErrorOf("version = 1\nalgorithm = \"sha384\"\n"), "`version` is missing or not"));
  CHECK(Says(ErrorOf("version = \"0.1.0\"\n"), "`algorithm` is missing"));
  CHECK(Says(ErrorOf("version = \"0.1.0\"\nalgorithm = \"md5\"\n"), "algorithm 'md5'"));
  CHECK(Says(ErrorOf("version = \"0.1.0\"\nalgorithm = \"sha256\"\ndata = 3\n"),
             "`data` is not a table"));
  CHECK(Says(ErrorOf("version = \"0.1.0\"\nalgorithm = \"sha256\"\n[data]\nx = 1\n"),
             "data.x is not a string"));
  CHECK(Says(ErrorOf(std::string(kMaxInitDataBytes + 1, '#')), "more than"));
  CHECK(Says(ErrorOf(std::string("version = \"\xff\"\n")), "not UTF-8 (line 1"));
}

TEST_CASE("Init-data with a character toml++ 3.3 is undefined on is refused before parsing") {
  // toml++ 3.3's is_non_ascii_horizontal_whitespace() reaches TOML_UNREACHABLE on these (upstream
  // issue #190's document, and what fuzz_evidence_init_data found: U+01D3 where a key goes).
  CHECK(Says(ErrorOf("version = \"0.1.0\"\ns = \"\"\"\\\n\xc2\xa7\"\"\"\n"), "U+00A7 (line 3)"));
  CHECK(Says(ErrorOf("version = \"0.1.0\"\ndefault \xc7\x93low = false\n"), "U+01D3 (line 2)"));
  CHECK(Says(ErrorOf("a = \"\xe3\x80\x81\"\n"), "U+3001"));
  CHECK(Says(ErrorOf("a = \"\xef\xbb\xbe\"\n"), "U+FEFE"));
  // Other non-ASCII text is parsed as before.
  auto euro = ParseInitData(
      "version = \"0.1.0\"\nalgorithm = \"sha384\"\n[data]\n"
      "price = \"10 \xe2\x82\xac\"\n");
  REQUIRE(euro.ok());
  CHECK(euro->data.at("price") == "10 \xe2\x82\xac");
}

TEST_CASE("A digest fits a report field by zero padding or truncation, as Trustee compares") {
  Bytes d32(32, 0x11), d48(48, 0x22), d64(64, 0x33);
  CHECK(RegularizeDigest(d48, 32) == Bytes(32, 0x22));
  CHECK(RegularizeDigest(d32, 32) == d32);
  Bytes padded = RegularizeDigest(d32, 48);
  CHECK(Bytes(padded.begin(), padded.begin() + 32) == d32);
  CHECK(Bytes(padded.begin() + 32, padded.end()) == Bytes(16, 0));
  CHECK(RegularizeDigest(d64, 48) == Bytes(48, 0x33));
  // Azure: PCR 8 extended once from zero with the first 32 bytes.
  Bytes extend(32, 0);
  extend.insert(extend.end(), 32, 0x22);
  CHECK(AzureInitDataPcr8(d48) == Sha256(extend));
}

}  // namespace
}  // namespace cvm::evidence
