// tdx::Appraise: collateral required unless the caller accepts a signature-only check, CRLs and
// expectations applied on every path, one verdict.
#include "tdx/appraise.h"

#include <catch2/catch.hpp>

#include "common/encoding.h"
#include "tests/testing/testing.h"

namespace cvm::tdx {
namespace {

Bytes V4() { return testing::ReadData("vectors/tdx/v4-dcap/quote.bin"); }

Collateral V4Collateral() {
  Bytes text = testing::ReadData("vectors/tdx/v4-dcap/collateral.json");
  auto c = ParseCollateral(AsChars(text));
  REQUIRE(c.ok());
  return *c;
}

FixedClock VectorClock() { return FixedClock(*ParseTime("2025-06-20T00:00:00Z")); }

TEST_CASE("Appraise verifies the real v4 quote with its collateral as UpToDate") {
  AppraiseOptions o;
  o.collateral = V4Collateral();
  auto a = Appraise(V4(), o, VectorClock());
  REQUIRE(a.ok());
  const Verdict& v = a->verdict;
  INFO((v.reasons.empty() ? std::string() : v.reasons[0]));
  CHECK(v.verified);
  CHECK(v.tee == "tdx");
  CHECK(v.details["tcb_status"] == "UpToDate");
  CHECK(v.tcb.rfind("UpToDate", 0) == 0);
  CHECK(v.measurement.size() == 96);
  CHECK(v.notes.empty());
  CHECK(a->tcb.has_value());
}

TEST_CASE("Appraise without collateral is refused unless a signature-only check is accepted") {
  auto none = Appraise(V4(), AppraiseOptions{}, VectorClock());
  CHECK(none.status().code() == Code::kInvalidInput);
  CHECK(none.status().message().find("collateral") != std::string::npos);
  AppraiseOptions o;
  o.signature_only = true;
  auto sig = Appraise(V4(), o, VectorClock());
  REQUIRE(sig.ok());
  CHECK(sig->verdict.verified);
  REQUIRE(sig->verdict.notes.size() == 1);
  CHECK(sig->verdict.notes[0].find("not evaluated") != std::string::npos);
  CHECK(sig->verdict.details["tcb_status"].is_null());
}

TEST_CASE("Appraise refuses collateral together with a signature-only check") {
  AppraiseOptions o;
  o.signature_only = true;
  o.collateral = V4Collateral();
  CHECK(Appraise(V4(), o, VectorClock()).status().code() == Code::kInvalidInput);
}

TEST_CASE("Appraise rejects collateral that is past its nextUpdate at the clock's time") {
  AppraiseOptions o;
  o.collateral = V4Collateral();
  FixedClock later(*ParseTime("2025-08-01T00:00:00Z"));
  auto a = Appraise(V4(), o, later);
  REQUIRE(a.ok());
  CHECK_FALSE(a->verdict.genuine);
  REQUIRE(a->verdict.reasons.size() == 1);
  CHECK(a->verdict.reasons[0].find("expired") != std::string::npos);
}

TEST_CASE("Appraise reports every policy violation after verification") {
  AppraiseOptions o;
  o.collateral = V4Collateral();
  o.expected.mrtd = Bytes(48, 0);
  o.expected.min_qe_svn = 100;
  auto a = Appraise(V4(), o, VectorClock());
  REQUIRE(a.ok());
  CHECK(a->verdict.genuine);
  CHECK_FALSE(a->verdict.verified);
  CHECK(a->verdict.reasons.size() == 2);
}

TEST_CASE("Appraise applies CRLs given for a signature-only check") {
  // The collateral's CRLs (Intel's root CA CRL and the PCK CRL: checking every level of the
  // chain needs both), given as CRLs of their own: they apply and list nothing here.
  AppraiseOptions o;
  o.signature_only = true;
  for (const Bytes& der : {V4Collateral().root_ca_crl, V4Collateral().pck_crl}) {
    auto crl = Crl::Parse(der);
    REQUIRE(crl.ok());
    o.crls.push_back(*crl);
  }
  auto a = Appraise(V4(), o, VectorClock());
  REQUIRE(a.ok());
  CHECK(a->verdict.verified);
  bool mentions_crl = false;
  for (const auto& c : a->verdict.checks) mentions_crl |= c.find("2 CRL") != std::string::npos;
  CHECK(mentions_crl);
}

}  // namespace
}  // namespace cvm::tdx
