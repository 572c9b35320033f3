// The bundle's JSON form: round trip, strictness, limits.
#include "evidence/bundle.h"

#include <catch2/catch.hpp>

namespace cvm::evidence {
namespace {

using nlohmann::json;

Bundle Sample() {
  Bundle b;
  b.tee = TeeKind::kSnp;
  b.report = Bytes(1184, 0xAB);
  b.certs = {Bytes{1, 2, 3}};
  TpmEvidence t;
  t.ak_public = {4, 5};
  t.ak_public_area = {6};
  t.attest = {7, 8, 9};
  t.signature = {10};
  t.pcrs[DigestAlg::kSha256][0] = Bytes(32, 1);
  t.pcrs[DigestAlg::kSha256][23] = Bytes(32, 2);
  t.event_log = {11, 12};
  b.tpm = t;
  b.runtime_data = json{{"nonce", "abc"}, {"tee-pubkey", nullptr}};
  b.runtime_data_hash = DigestAlg::kSha512;
  b.init_data = InitData{"toml", "algorithm = \"sha384\"\n"};
  return b;
}

TEST_CASE("A bundle survives ToJson and ParseBundle unchanged") {
  Bundle b = Sample();
  std::string text = ToJson(b).dump();
  CHECK(LooksLikeBundle(text));
  auto p = ParseBundle(text);
  REQUIRE(p.ok());
  CHECK(p->report == b.report);
  CHECK(p->certs == b.certs);
  REQUIRE(p->tpm.has_value());
  CHECK(p->tpm->ak_public == b.tpm->ak_public);
  CHECK(p->tpm->ak_public_area == b.tpm->ak_public_area);
  CHECK(p->tpm->attest == b.tpm->attest);
  CHECK(p->tpm->pcrs == b.tpm->pcrs);
  CHECK(p->tpm->event_log == b.tpm->event_log);
  CHECK(*p->runtime_data == *b.runtime_data);
  CHECK(p->runtime_data_hash == DigestAlg::kSha512);
  CHECK(p->init_data->body == b.init_data->body);
  CHECK(ToJson(*p).dump() == text);
}

TEST_CASE("The bundle's first member is its version key") {
  std::string text = ToJson(Sample()).dump();
  CHECK(text.rfind("{\"cvm-evidence-bundle\":1,", 0) == 0);
}

TEST_CASE("An unknown top-level member is refused naming it") {
  json j = json::parse(ToJson(Sample()).dump());
  j["surprise"] = true;
  auto p = ParseBundle(j.dump());
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == Code::kInvalidInput);
  CHECK(p.status().ToString().find("surprise") != std::string::npos);
}

TEST_CASE("An unknown member inside the TPM part is refused naming it") {
  json j = json::parse(ToJson(Sample()).dump());
  j["tpm"]["quote"] = "x";
  auto p = ParseBundle(j.dump());
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().ToString().find("tpm.quote") != std::string::npos);
}

TEST_CASE("A newer bundle version is unsupported, not misread") {
  json j = json::parse(ToJson(Sample()).dump());
  j["cvm-evidence-bundle"] = 2;
  CHECK(ParseBundle(j.dump()).status().code() == Code::kUnsupported);
}

TEST_CASE("Bad base64 in a member is refused naming the member") {
  json j = json::parse(ToJson(Sample()).dump());
  j["report"] = "not base64!";
  auto p = ParseBundle(j.dump());
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().ToString().find("report") != std::string::npos);
}

TEST_CASE("An oversized event log is refused naming the member") {
  json j = json::parse(ToJson(Sample()).dump());
  j["tpm"]["event-log"] = std::string(6 << 20, 'A');
  auto p = ParseBundle(j.dump());
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().ToString().find("tpm.event-log") != std::string::npos);
}

TEST_CASE("A PCR value of the wrong size or an index over 23 is refused") {
  json j = json::parse(ToJson(Sample()).dump());
  j["tpm"]["pcrs"]["sha256"]["24"] = std::string(64, '0');
  CHECK_FALSE(ParseBundle(j.dump()).ok());
  j = json::parse(ToJson(Sample()).dump());
  j["tpm"]["pcrs"]["sha256"]["1"] = "00";
  CHECK_FALSE(ParseBundle(j.dump()).ok());
}

TEST_CASE("A bundle needs exactly one of runtime-data and report-data") {
  json j = json::parse(ToJson(Sample()).dump());
  j["report-data"] = std::string(128, '0');
  CHECK_FALSE(ParseBundle(j.dump()).ok());
  j.erase("runtime-data");
  j.erase("runtime-data-hash");
  auto p = ParseBundle(j.dump());
  REQUIRE(p.ok());
  CHECK(p->report_data_raw->size() == 64);
  j.erase("report-data");
  CHECK_FALSE(ParseBundle(j.dump()).ok());
}

TEST_CASE("Text that is not a bundle is not taken for one") {
  CHECK_FALSE(LooksLikeBundle("{\"attestation_report\":{}}"));
  CHECK_FALSE(LooksLikeBundle("\x01\x02"));
  CHECK_FALSE(LooksLikeBundle("[1]"));
}

TEST_CASE("An unknown TEE kind is refused") {
  json j = json::parse(ToJson(Sample()).dump());
  j["tee"] = "sgx";
  CHECK(ParseBundle(j.dump()).status().code() == Code::kUnsupported);
  j["tee"] = "nope";
  CHECK(ParseBundle(j.dump()).status().code() == Code::kInvalidInput);
}

}  // namespace
}  // namespace cvm::evidence
