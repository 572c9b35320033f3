#include "tdx/sim.h"

#include <catch2/catch.hpp>

#include "common/clock.h"
#include "tdx/collateral.h"
#include "tdx/tcb.h"
#include "tdx/verify.h"
#include "tests/testing/testing.h"

namespace cvm::tdx {
namespace {

TimePoint At(const char* t) { return *ParseTime(t); }
const TimePoint kInit = At("2026-01-01T00:00:00Z");
const TimePoint kLater = At("2026-01-02T00:00:00Z");

// Key generation is the slow part: one simulated platform per test binary.
const SimTdx& Sim() {
  static const SimTdx* sim = [] {
    auto s = SimTdx::Create(kInit);
    REQUIRE(s.ok());
    return new SimTdx(std::move(*s));
  }();
  return *sim;
}

Result<TcbEvaluation> VerifyWithCollateral(ByteSpan quote, const std::vector<Certificate>& roots) {
  CVM_ASSIGN_OR_RETURN(Collateral c, Sim().MakeCollateral(kLater));
  // Through the document form, as cvmctl reads it.
  CVM_ASSIGN_OR_RETURN(Collateral parsed, ParseCollateral(EncodeCollateral(c)));
  CVM_ASSIGN_OR_RETURN(VerifiedCollateral vc, VerifyCollateral(parsed, roots, kLater));
  CVM_ASSIGN_OR_RETURN(Quote q, ParseQuote(quote));
  QuoteVerifyOptions o;
  o.roots = roots;
  o.at = kLater;
  o.crls = vc.crls;
  CVM_ASSIGN_OR_RETURN(VerifiedQuote vq, VerifyQuote(q, o));
  return EvaluateTcb(q, vq.pck_extensions, vc);
}

TEST_CASE("A simulated v4 quote with simulated collateral verifies with the simulated root") {
  SimQuoteOptions o;
  o.report_data = Bytes(64, 0xab);
  auto quote = Sim().MakeQuote(o);
  REQUIRE(quote.ok());
  auto e = VerifyWithCollateral(*quote, {Sim().root()});
  INFO(e.status().ToString());
  REQUIRE(e.ok());
  CHECK(e->status == TcbStatus::kUpToDate);
  CHECK(e->tdx_module_status == TcbStatus::kUpToDate);
  CHECK(ParseQuote(*quote)->body.report_data == Bytes(64, 0xab));
}

TEST_CASE("A simulated v5 quote is byte-exact: it parses with a TD 1.5 body and verifies") {
  SimQuoteOptions o;
  o.version = 5;
  auto quote = Sim().MakeQuote(o);
  REQUIRE(quote.ok());
  auto q = ParseQuote(*quote);
  REQUIRE(q.ok());
  CHECK(q->size == quote->size());
  CHECK(q->body_type == kBodyTypeTd15);
  auto e = VerifyWithCollateral(*quote, {Sim().root()});
  INFO(e.status().ToString());
  CHECK(e.ok());
}

TEST_CASE("A simulated quote does not verify against the built-in Intel root") {
  auto quote = Sim().MakeQuote({});
  REQUIRE(quote.ok());
  QuoteVerifyOptions o;
  o.at = kLater;
  auto v = VerifyQuote(*ParseQuote(*quote), o);
  REQUIRE_FALSE(v.ok());
  CHECK(v.status().code() == Code::kRejected);
  CHECK(v.status().ToString().find("pck certificate chain") != std::string::npos);
}

TEST_CASE("Simulated collateral does not verify against the built-in Intel root") {
  auto c = Sim().MakeCollateral(kLater);
  REQUIRE(c.ok());
  auto v = VerifyCollateral(*c, {}, kLater);
  REQUIRE_FALSE(v.ok());
  CHECK(v.status().code() == Code::kRejected);
}

TEST_CASE("A platform saved to a directory loads back with the same root and PCK") {
  testing::TempDir dir;
  REQUIRE(Sim().Save(dir.path()).ok());
  auto loaded = SimTdx::Load(dir.path());
  REQUIRE(loaded.ok());
  CHECK(loaded->root().Der() == Sim().root().Der());
  CHECK(loaded->pck_extensions().fmspc == Sim().pck_extensions().fmspc);
}

TEST_CASE("A debug TD's simulated quote still verifies: debug is a policy matter") {
  SimQuoteOptions o;
  o.td_attributes = 1;
  auto quote = Sim().MakeQuote(o);
  REQUIRE(quote.ok());
  CHECK(ParseQuote(*quote)->body.TdAttributes() == 1);
  CHECK(VerifyWithCollateral(*quote, {Sim().root()}).ok());
}

TEST_CASE("Simulated report data longer than 64 bytes is refused") {
  SimQuoteOptions o;
  o.report_data = Bytes(65, 1);
  CHECK(Sim().MakeQuote(o).status().code() == Code::kInvalidInput);
}

}  // namespace
}  // namespace cvm::tdx
