#include "tdx/validate.h"

#include <catch2/catch.hpp>

#include "common/encoding.h"
#include "common/file_util.h"
#include "tdx/policy.h"
#include "tests/testing/testing.h"

namespace cvm::tdx {
namespace {

Quote RealQuote() { return *ParseQuote(testing::ReadData("vectors/tdx/v4-dcap/quote.bin")); }

TEST_CASE("A quote meets a policy naming its own measurements") {
  Quote q = RealQuote();
  ValidateOptions o;
  o.mrtd = q.body.mrtd;
  o.rtmr[0] = q.body.rtmr[0];
  o.report_data = q.body.report_data;
  o.xfam = q.body.Xfam();
  o.td_attributes = q.body.TdAttributes();
  o.min_tee_tcb_svn = q.body.tee_tcb_svn;
  CHECK(ValidateQuote(q, nullptr, nullptr, o).ok());
}

TEST_CASE("Validation reports every violation, not just the first") {
  Quote q = RealQuote();
  ValidateOptions o;
  o.mrtd = Bytes(48, 1);
  o.rtmr[3] = Bytes(48, 2);
  o.min_qe_svn = 60000;
  auto v = QuoteViolations(q, nullptr, nullptr, o);
  REQUIRE(v.size() == 3);
  CHECK(v[0].find("MRTD") == 0);
  CHECK(v[1].find("RTMR3") == 0);
  CHECK(v[2].find("QE SVN") == 0);
  Status s = ValidateQuote(q, nullptr, nullptr, o);
  CHECK(s.code() == Code::kRejected);
  CHECK(s.message().find("3 violations") != std::string::npos);
}

TEST_CASE("A debug TD is a violation unless debug is allowed") {
  Quote q = RealQuote();
  q.body.td_attributes[0] |= 1;
  ValidateOptions o;
  CHECK(QuoteViolations(q, nullptr, nullptr, o).size() == 1);
  o.allow_debug = true;
  CHECK(QuoteViolations(q, nullptr, nullptr, o).empty());
}

TEST_CASE("OutOfDate is not accepted by default and Revoked never is") {
  Quote q = RealQuote();
  TcbEvaluation tcb;
  tcb.status = TcbStatus::kOutOfDate;
  ValidateOptions o;
  CHECK(QuoteViolations(q, nullptr, &tcb, o).size() == 1);
  o.accepted_tcb_statuses = {TcbStatus::kOutOfDate, TcbStatus::kRevoked};
  CHECK(QuoteViolations(q, nullptr, &tcb, o).empty());
  tcb.status = TcbStatus::kRevoked;
  CHECK(QuoteViolations(q, nullptr, &tcb, o).size() == 1);
}

TEST_CASE("A PCE SVN below the minimum is a violation") {
  Quote q = RealQuote();
  PckExtensions pck;
  pck.pce_svn = 5;
  ValidateOptions o;
  o.min_pce_svn = 11;
  auto v = QuoteViolations(q, &pck, nullptr, o);
  REQUIRE(v.size() == 1);
  CHECK(v[0] == "PCE SVN 5 is below the minimum 11");
}

TEST_CASE("A YAML policy sets every documented key") {
  std::string mr(96, 'a');
  auto o = ParsePolicy("tdx:\n  mrtd: " + mr + "\n  rtmr2: " + mr +
                       "\n  allow_debug: true\n  td_attributes: \"0x10000000\"\n"
                       "  min_qe_svn: 4\n  min_pce_svn: 11\n"
                       "  accepted_tcb_statuses: [UpToDate, OutOfDate]\n");
  INFO(o.status().ToString());
  REQUIRE(o.ok());
  CHECK(HexEncode(*o->mrtd) == mr);
  CHECK(o->rtmr[2].has_value());
  CHECK(o->allow_debug);
  CHECK(*o->td_attributes == 0x10000000u);
  CHECK(*o->min_qe_svn == 4);
  CHECK(o->accepted_tcb_statuses.size() == 2);
}

TEST_CASE("A misspelt policy key is refused") {
  auto o = ParsePolicy("tdx:\n  mrdt: 00\n");
  REQUIRE_FALSE(o.ok());
  CHECK(o.status().code() == Code::kInvalidInput);
  CHECK(o.status().message().find("mrdt") != std::string::npos);
}

TEST_CASE("A policy value of the wrong length is refused naming the key") {
  auto o = ParsePolicy("mrtd: abcd\n");
  REQUIRE_FALSE(o.ok());
  CHECK(o.status().ToString().find("mrtd") != std::string::npos);
}

TEST_CASE("The shipped example policy parses") {
  Bytes text = testing::ReadData("../../config/policy-tdx.example.yaml");
  auto o = ParsePolicy(AsChars(text));
  INFO(o.status().ToString());
  REQUIRE(o.ok());
  CHECK(o->mrtd.has_value());
  CHECK(o->accepted_tcb_statuses.size() == 2);
}

TEST_CASE("TDX policy errors name the key, line and column, and the file") {
  auto o = ParsePolicy("tdx:\n  mrdt: 00\n");
  CHECK(o.status().message().find("mrdt (line 2, column 3): unknown key") != std::string::npos);
  o = ParsePolicy("min_qe_svn: 70000\n");
  CHECK(o.status().message().find("min_qe_svn (line 1, column 13)") != std::string::npos);
  o = ParsePolicy("tdx: [unclosed\n");
  CHECK(o.status().message().find("not valid YAML (line ") != std::string::npos);
  testing::TempDir dir;
  std::string path = dir.File("policy.yaml");
  REQUIRE(WriteFileAtomic(path, AsBytes("allow_debug: maybe\n")).ok());
  auto f = LoadPolicyFile(path);
  CHECK(f.status().code() == Code::kInvalidInput);
  CHECK(f.status().ToString().find(path) != std::string::npos);
  CHECK(f.status().message().find("allow_debug (line 1, column 14)") != std::string::npos);
}

TEST_CASE("Malformed YAML is refused") {
  CHECK(ParsePolicy("tdx: [unclosed\n").status().code() == Code::kInvalidInput);
}

}  // namespace
}  // namespace cvm::tdx
