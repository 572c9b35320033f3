#include "tdx/collateral.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/encoding.h"
#include "tdx/json_raw.h"
#include "tdx/tcb.h"
#include "tdx/verify.h"
#include "tests/testing/testing.h"

namespace cvm::tdx {
namespace {

TimePoint At(const char* t) { return *ParseTime(t); }

std::string CollateralText() {
  Bytes b = testing::ReadData("vectors/tdx/v4-dcap/collateral.json");
  return std::string(AsChars(b));
}

// Verifies the v4 quote with its collateral text at `at`; the TCB evaluation or the error.
Result<TcbEvaluation> Evaluate(const std::string& collateral_text, TimePoint at) {
  CVM_ASSIGN_OR_RETURN(Collateral c, ParseCollateral(collateral_text));
  CVM_ASSIGN_OR_RETURN(VerifiedCollateral vc, VerifyCollateral(c, {}, at));
  CVM_ASSIGN_OR_RETURN(Quote q, ParseQuote(testing::ReadData("vectors/tdx/v4-dcap/quote.bin")));
  QuoteVerifyOptions o;
  o.at = at;
  o.crls = vc.crls;
  CVM_ASSIGN_OR_RETURN(VerifiedQuote vq, VerifyQuote(q, o));
  return EvaluateTcb(q, vq.pck_extensions, vc);
}

TEST_CASE("Collateral with a short TCB info or QE identity signature is refused as invalid input") {
  auto c = ParseCollateral(CollateralText());
  REQUIRE(c.ok());
  Collateral short_tcb = *c;
  short_tcb.tcb_info_signature.resize(32);
  Status s = VerifyCollateral(short_tcb, {}, At("2025-06-20T00:00:00Z")).status();
  CHECK(s.code() == Code::kInvalidInput);
  CHECK(s.message().find("tcb info signature is 32 bytes") != std::string::npos);
  Collateral short_qe = *c;
  short_qe.qe_identity_signature.push_back(0);
  s = VerifyCollateral(short_qe, {}, At("2025-06-20T00:00:00Z")).status();
  CHECK(s.code() == Code::kInvalidInput);
  CHECK(s.message().find("qe identity signature is 65 bytes") != std::string::npos);
}

TEST_CASE("The v4 quote with its collateral at 2025-06-20 is UpToDate with no advisories") {
  auto e = Evaluate(CollateralText(), At("2025-06-20T00:00:00Z"));
  INFO(e.status().ToString());
  REQUIRE(e.ok());
  CHECK(e->status == TcbStatus::kUpToDate);
  CHECK(e->advisory_ids.empty());
  CHECK(e->qe_status == TcbStatus::kUpToDate);
}

TEST_CASE("Collateral evaluated after its nextUpdate is rejected as expired") {
  auto e = Evaluate(CollateralText(), At("2025-08-01T00:00:00Z"));
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().code() == Code::kRejected);
  CHECK(e.status().ToString().find("expired") != std::string::npos);
}

TEST_CASE("A TCB info whose signature does not verify is rejected") {
  auto doc = nlohmann::json::parse(CollateralText());
  std::string sig = doc["tcb_info_signature"];
  sig[10] = sig[10] == '0' ? '1' : '0';
  doc["tcb_info_signature"] = sig;
  auto e = Evaluate(doc.dump(), At("2025-06-20T00:00:00Z"));
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().code() == Code::kRejected);
  CHECK(e.status().ToString().find("tcb info signature does not verify") != std::string::npos);
}

TEST_CASE("A TCB info edited after signing is rejected") {
  auto doc = nlohmann::json::parse(CollateralText());
  std::string info = doc["tcb_info"];
  info.replace(info.find("\"tcbEvaluationDataNumber\":17"), 28, "\"tcbEvaluationDataNumber\":18");
  doc["tcb_info"] = info;
  auto e = Evaluate(doc.dump(), At("2025-06-20T00:00:00Z"));
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().ToString().find("tcb info signature") != std::string::npos);
}

TEST_CASE("A QE identity whose signature does not verify is rejected") {
  auto doc = nlohmann::json::parse(CollateralText());
  std::string sig = doc["qe_identity_signature"];
  sig[0] = sig[0] == 'd' ? 'e' : 'd';
  doc["qe_identity_signature"] = sig;
  auto e = Evaluate(doc.dump(), At("2025-06-20T00:00:00Z"));
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().ToString().find("qe identity signature does not verify") != std::string::npos);
}

TEST_CASE("The PCS response form with tcbInfo as an object verifies from its original bytes") {
  auto doc = nlohmann::json::parse(CollateralText());
  std::string info = doc["tcb_info"], sig = doc["tcb_info_signature"];
  std::string pcs = "{\"tcbInfo\":" + info + ",\"signature\":\"" + sig + "\"}";
  doc.erase("tcb_info_signature");
  std::string text = doc.dump();
  // Embed the PCS body as an object, not as a string.
  std::string quoted = nlohmann::json(doc["tcb_info"]).dump();
  text.replace(text.find(quoted), quoted.size(), pcs);
  auto e = Evaluate(text, At("2025-06-20T00:00:00Z"));
  INFO(e.status().ToString());
  REQUIRE(e.ok());
  CHECK(e->status == TcbStatus::kUpToDate);
}

TEST_CASE("CRLs given as byte arrays are accepted") {
  auto doc = nlohmann::json::parse(CollateralText());
  Bytes crl = *HexDecode(doc["pck_crl"].get<std::string>());
  doc["pck_crl"] = crl;
  auto c = ParseCollateral(doc.dump());
  REQUIRE(c.ok());
  CHECK(c->pck_crl == crl);
}

TEST_CASE("Collateral missing a field is refused naming it") {
  auto doc = nlohmann::json::parse(CollateralText());
  doc.erase("root_ca_crl");
  auto c = ParseCollateral(doc.dump());
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == Code::kInvalidInput);
  CHECK(c.status().message().find("root_ca_crl") != std::string::npos);
}

TEST_CASE("The raw text of a member keeps its original spacing and key order") {
  std::string doc = R"({"a": 1, "tcbInfo" : {"z":1, "a" : [1,2.50]}, "b":{"tcbInfo":2}})";
  auto raw = RawMemberText(doc, "tcbInfo");
  REQUIRE(raw.ok());
  CHECK(*raw == R"({"z":1, "a" : [1,2.50]})");
}

TEST_CASE("The raw text of a missing or scalar member is an error") {
  CHECK_FALSE(RawMemberText(R"({"a":{}})", "tcbInfo").ok());
  CHECK_FALSE(RawMemberText(R"({"tcbInfo":"x"})", "tcbInfo").ok());
  CHECK_FALSE(RawMemberText(R"({"tcbInfo":{})", "tcbInfo").ok());
}

TEST_CASE("TCB status names round-trip") {
  for (const char* n :
       {"UpToDate", "SWHardeningNeeded", "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded",
        "OutOfDate", "OutOfDateConfigurationNeeded", "Revoked"}) {
    auto s = ParseTcbStatus(n);
    REQUIRE(s.ok());
    CHECK(TcbStatusName(*s) == n);
  }
  CHECK_FALSE(ParseTcbStatus("Fine").ok());
}

}  // namespace
}  // namespace cvm::tdx
