// TCB level evaluation against Intel's rules (QVL TcbLevelCheck.cpp / TdxModuleCheck.cpp), on
// the real v4 quote with its real (parsed, then edited) collateral.
#include "tdx/tcb.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tdx/collateral.h"
#include "tdx/verify.h"
#include "tests/testing/testing.h"

namespace cvm::tdx {
namespace {

struct Fixture {
  Quote quote;
  PckExtensions pck;
  VerifiedCollateral collateral;
};

Fixture Load() {
  Fixture f;
  f.quote = *ParseQuote(testing::ReadData("vectors/tdx/v4-dcap/quote.bin"));
  auto certs = ParseCertificates(f.quote.certification.pck_cert_data);
  f.pck = *PckExtensionsOf((*certs)[0]);
  Bytes text = testing::ReadData("vectors/tdx/v4-dcap/collateral.json");
  Collateral c = *ParseCollateral(AsChars(text));
  f.collateral.tcb_info = *ParseTcbInfo(c.tcb_info);
  f.collateral.qe_identity = *ParseQeIdentity(c.qe_identity);
  return f;
}

TEST_CASE("The real quote matches the first TCB level: UpToDate") {
  Fixture f = Load();
  auto e = EvaluateTcb(f.quote, f.pck, f.collateral);
  REQUIRE(e.ok());
  CHECK(e->status == TcbStatus::kUpToDate);
  CHECK(e->tcb_date == "2024-03-13T00:00:00Z");
}

TEST_CASE("A lower PCESVN falls to the OutOfDate level and carries its advisories") {
  Fixture f = Load();
  f.pck.pce_svn = 5;
  auto e = EvaluateTcb(f.quote, f.pck, f.collateral);
  REQUIRE(e.ok());
  CHECK(e->status == TcbStatus::kOutOfDate);
  CHECK(e->advisory_ids.size() == 14);
  CHECK(e->advisory_ids.front() == "INTEL-SA-00106");
}

TEST_CASE("SGX components below every level mean no TCB level matches") {
  Fixture f = Load();
  f.pck.tcb_comps[0] = 1;
  auto e = EvaluateTcb(f.quote, f.pck, f.collateral);
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().code() == Code::kRejected);
  CHECK(e.status().message().find("no TCB level matches") != std::string::npos);
}

TEST_CASE("With a TDX module version, TEE_TCB_SVN bytes 0 and 1 are not compared to the level") {
  Fixture f = Load();
  REQUIRE(f.quote.body.tee_tcb_svn[1] > 0);
  f.quote.body.tee_tcb_svn[0] = 4;  // below the level's 5, but at TDX_01's isvsvn 4
  auto e = EvaluateTcb(f.quote, f.pck, f.collateral);
  REQUIRE(e.ok());
  CHECK(e->status == TcbStatus::kUpToDate);
}

TEST_CASE("An OutOfDate TDX module makes an UpToDate platform OutOfDate") {
  Fixture f = Load();
  f.quote.body.tee_tcb_svn[0] = 2;  // TDX_01 level isvsvn 2: OutOfDate
  auto e = EvaluateTcb(f.quote, f.pck, f.collateral);
  REQUIRE(e.ok());
  CHECK(e->tdx_module_status == TcbStatus::kOutOfDate);
  CHECK(e->status == TcbStatus::kOutOfDate);
}

TEST_CASE("An OutOfDate module with ConfigurationNeeded gives OutOfDateConfigurationNeeded") {
  Fixture f = Load();
  f.quote.body.tee_tcb_svn[0] = 2;
  f.collateral.tcb_info.levels[0].status = TcbStatus::kConfigurationNeeded;
  auto e = EvaluateTcb(f.quote, f.pck, f.collateral);
  REQUIRE(e.ok());
  CHECK(e->status == TcbStatus::kOutOfDateConfigurationNeeded);
}

TEST_CASE("A TDX module below every module level is rejected") {
  Fixture f = Load();
  f.quote.body.tee_tcb_svn[0] = 1;
  auto e = EvaluateTcb(f.quote, f.pck, f.collateral);
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().message().find("TDX_01") != std::string::npos);
}

TEST_CASE("A TDX module version without an identity is rejected") {
  Fixture f = Load();
  f.quote.body.tee_tcb_svn[1] = 9;
  auto e = EvaluateTcb(f.quote, f.pck, f.collateral);
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().message().find("TDX_09") != std::string::npos);
}

TEST_CASE("A revoked QE makes the TCB Revoked") {
  Fixture f = Load();
  f.collateral.qe_identity.levels[0].status = TcbStatus::kRevoked;
  auto e = EvaluateTcb(f.quote, f.pck, f.collateral);
  REQUIRE(e.ok());
  CHECK(e->status == TcbStatus::kRevoked);
}

TEST_CASE("An OutOfDate QE makes SWHardeningNeeded OutOfDate") {
  Fixture f = Load();
  f.collateral.qe_identity.levels[0].status = TcbStatus::kOutOfDate;
  f.collateral.tcb_info.levels[0].status = TcbStatus::kSWHardeningNeeded;
  auto e = EvaluateTcb(f.quote, f.pck, f.collateral);
  REQUIRE(e.ok());
  CHECK(e->status == TcbStatus::kOutOfDate);
}

TEST_CASE("A QE report from another signer is rejected naming MRSIGNER") {
  Fixture f = Load();
  f.collateral.qe_identity.mrsigner[0] ^= 1;
  auto e = EvaluateTcb(f.quote, f.pck, f.collateral);
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().message().find("MRSIGNER") != std::string::npos);
}

TEST_CASE("A TCB info for another FMSPC is rejected") {
  Fixture f = Load();
  f.collateral.tcb_info.fmspc[0] ^= 1;
  auto e = EvaluateTcb(f.quote, f.pck, f.collateral);
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().message().find("FMSPC") != std::string::npos);
}

TEST_CASE("A TDX module signer other than the identity's is rejected") {
  Fixture f = Load();
  f.quote.body.mrsignerseam[5] = 1;
  auto e = EvaluateTcb(f.quote, f.pck, f.collateral);
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().message().find("MRSIGNERSEAM") != std::string::npos);
}

}  // namespace
}  // namespace cvm::tdx
