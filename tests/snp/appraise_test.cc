// snp::Appraise: the defaults every front door gets (DEBUG refused, the caller's product checked,
// certificates required or fetched) and the verdict it returns.
#include "snp/appraise.h"

#include <catch2/catch.hpp>

#include "tests/snp/fixtures.h"
#include "tests/testing/testing.h"

namespace cvm::snp {
namespace {

using testing::RealVector;
using testing::VectorTime;

AppraiseOptions Opts(const testing::Vector& v) {
  AppraiseOptions o;
  o.certs = v.certs;
  return o;
}

bool HasReason(const Verdict& v, const std::string& text) {
  for (const auto& r : v.reasons) {
    if (r.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST_CASE("Appraise verifies a genuine report and fills the common verdict") {
  FixedClock clock(VectorTime());
  auto a = Appraise(RealVector("genoa-v3").report, Opts(RealVector("genoa-v3")), clock);
  REQUIRE(a.ok());
  const Verdict& v = a->verdict;
  CHECK(v.verified);
  CHECK(v.genuine);
  CHECK(v.tee == "snp");
  CHECK(v.product == "Genoa");
  CHECK(v.reasons.empty());
  CHECK(v.measurement.rfind("5feee30d", 0) == 0);
  CHECK(v.tcb.find("snp=23") != std::string::npos);
  CHECK(v.details["signing_key"] == "vcek");
  CHECK(v.report["product"] == "Genoa");
  CHECK(a->verified.has_value());
}

TEST_CASE("Appraise refuses a DEBUG guest by default, without any policy") {
  FixedClock clock(VectorTime());
  const auto vec = RealVector("milan-v2");  // its guest policy has DEBUG set
  auto a = Appraise(vec.report, Opts(vec), clock);
  REQUIRE(a.ok());
  CHECK(a->verdict.genuine);
  CHECK_FALSE(a->verdict.verified);
  CHECK(HasReason(a->verdict, "DEBUG"));
  AppraiseOptions allow = Opts(vec);
  allow.expected.allow_debug = true;
  auto b = Appraise(vec.report, allow, clock);
  REQUIRE(b.ok());
  CHECK(b->verdict.verified);
  CHECK_FALSE(b->verdict.notes.empty());
}

TEST_CASE("Appraise rejects a product the caller names that contradicts the report") {
  FixedClock clock(VectorTime());
  const auto vec = RealVector("genoa-v3");
  AppraiseOptions o = Opts(vec);
  o.product = Product::kMilan;
  auto a = Appraise(vec.report, o, clock);
  REQUIRE(a.ok());
  CHECK_FALSE(a->verdict.verified);
  CHECK(HasReason(a->verdict, "Milan"));
}

TEST_CASE("Appraise without certificates or a KDS client is unusable input") {
  FixedClock clock(VectorTime());
  auto a = Appraise(RealVector("genoa-v3").report, AppraiseOptions{}, clock);
  CHECK(a.status().code() == Code::kInvalidInput);
}

TEST_CASE("Appraise takes the time from the clock it is given") {
  FixedClock clock(*ParseTime("2040-01-01T00:00:00Z"));
  auto a = Appraise(RealVector("genoa-v3").report, Opts(RealVector("genoa-v3")), clock);
  REQUIRE(a.ok());
  CHECK_FALSE(a->verdict.genuine);
  CHECK(HasReason(a->verdict, "expired"));
}

TEST_CASE("Appraise of malformed bytes is a status, not a verdict") {
  FixedClock clock(VectorTime());
  Bytes b = RealVector("genoa-v3").report;
  b.resize(100);
  CHECK(Appraise(b, Opts(RealVector("genoa-v3")), clock).status().code() == Code::kInvalidInput);
}

}  // namespace
}  // namespace cvm::snp
