#include "tpm/pcr.h"

#include <catch2/catch.hpp>

#include "common/encoding.h"

namespace cvm::tpm {
namespace {

TEST_CASE("A PCR selection parses lists, ranges and several banks") {
  auto sel = ParsePcrSelection("sha256:0,1,7+sha1:0-2,2");
  REQUIRE(sel.ok());
  REQUIRE(sel->banks.size() == 2);
  CHECK(sel->banks[0].alg == DigestAlg::kSha256);
  CHECK(sel->banks[0].pcrs == std::vector<uint32_t>{0, 1, 7});
  CHECK(sel->banks[1].alg == DigestAlg::kSha1);
  CHECK(sel->banks[1].pcrs == std::vector<uint32_t>{0, 1, 2});
  CHECK(FormatPcrSelection(*sel) == "sha256:0,1,7+sha1:0,1,2");
}

TEST_CASE("A malformed PCR selection is invalid input naming the problem") {
  for (const char* bad : {"", "sha256", "md5:0", "sha256:24", "sha256:3-1", "sha256:", "sha256:a",
                          "sha256:0+sha256:1", "sha256:1,,2"}) {
    INFO(bad);
    auto sel = ParsePcrSelection(bad);
    CHECK(sel.status().code() == Code::kInvalidInput);
  }
}

TEST_CASE("The default selection is sha256 PCRs 0 to 15") {
  CHECK(FormatPcrSelection(DefaultPcrSelection()) ==
        "sha256:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15");
}

TEST_CASE("The composite digest hashes the selected values in selection order") {
  PcrValues v;
  v[DigestAlg::kSha256][0] = Bytes(32, 0x11);
  v[DigestAlg::kSha256][7] = Bytes(32, 0x77);
  v[DigestAlg::kSha1][0] = Bytes(20, 0xAA);
  auto sel = ParsePcrSelection("sha256:0,7+sha1:0");
  REQUIRE(sel.ok());
  Bytes concat = v[DigestAlg::kSha256][0];
  concat.insert(concat.end(), v[DigestAlg::kSha256][7].begin(), v[DigestAlg::kSha256][7].end());
  concat.insert(concat.end(), v[DigestAlg::kSha1][0].begin(), v[DigestAlg::kSha1][0].end());
  auto d = PcrCompositeDigest(DigestAlg::kSha256, *sel, v);
  REQUIRE(d.ok());
  CHECK(*d == Sha256(concat));
}

TEST_CASE("The composite digest refuses a missing or wrongly sized PCR value") {
  PcrValues v;
  v[DigestAlg::kSha256][0] = Bytes(32, 0);
  auto sel = ParsePcrSelection("sha256:0,1");
  CHECK(PcrCompositeDigest(DigestAlg::kSha256, *sel, v).status().code() == Code::kInvalidInput);
  v[DigestAlg::kSha256][1] = Bytes(31, 0);
  CHECK(PcrCompositeDigest(DigestAlg::kSha256, *sel, v).status().code() == Code::kInvalidInput);
}

TEST_CASE("PCR values round-trip through their JSON form") {
  PcrValues v;
  v[DigestAlg::kSha256][10] = Bytes(32, 0xAB);
  v[DigestAlg::kSha1][2] = Bytes(20, 0x01);
  std::string json = PcrValuesToJson(v);
  CHECK(json.find("\"10\": \"abab") != std::string::npos);
  auto back = PcrValuesFromJson(json);
  REQUIRE(back.ok());
  CHECK(*back == v);
}

TEST_CASE("Malformed PCR JSON is invalid input") {
  for (const char* bad :
       {"[", "[]", "{\"md5\":{}}", "{\"sha256\":{\"0\":\"00\"}}", "{\"sha256\":{\"x\":\"00\"}}",
        "{\"sha256\":[]}", "{\"sha256\":{\"0\":1}}"}) {
    INFO(bad);
    CHECK(PcrValuesFromJson(bad).status().code() == Code::kInvalidInput);
  }
}

}  // namespace
}  // namespace cvm::tpm
