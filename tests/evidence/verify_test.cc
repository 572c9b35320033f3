// VerifyBundle on Trustee's genuine samples.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/x509.h"
#include "evidence/bundle.h"
#include "evidence/trustee.h"
#include "tests/testing/testing.h"

namespace cvm::evidence {
namespace {

using nlohmann::json;

std::string Sample(const std::string& name) {
  Bytes b = cvm::testing::ReadData("vectors/trustee/" + name);
  return std::string(b.begin(), b.end());
}

bool HasReason(const BundleVerdict& v, std::string_view needle) {
  for (const auto& r : v.reasons) {
    if (r.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::string Reasons(const BundleVerdict& v) {
  std::string s;
  for (const auto& r : v.reasons) s += r + "\n";
  return s;
}

// Options that verify against AMD's built-in roots one day into the VCEK's validity.
BundleVerifyOptions AtVcekTime(const Bundle& b) {
  BundleVerifyOptions o;
  o.at = TimePoint(*Certificate::FromDer(b.certs.at(0))->NotBefore() + std::chrono::hours(24));
  return o;
}

TEST_CASE("Trustee's e2e Genoa evidence verifies against AMD's roots") {
  auto b = FromTrusteeEvidenceFile(TeeKind::kSnp,
                                   Sample("attestation-service__tests__e2e__evidence.json"));
  REQUIRE(b.ok());
  auto v = VerifyBundle(*b, AtVcekTime(*b));
  REQUIRE(v.ok());
  INFO(Reasons(*v));
  CHECK(v->verified);
  CHECK(v->claims.product == "Genoa");
  CHECK(v->claims.measurement.size() == 48);
  CHECK(v->claims.tcb.at("snp") == 23);
  CHECK_FALSE(v->notes.empty());  // the binding was not checked
  CHECK(v->ToJson()["verified"] == true);
}

TEST_CASE("Trustee's e2e evidence with one report byte changed is rejected") {
  auto b = FromTrusteeEvidenceFile(TeeKind::kSnp,
                                   Sample("attestation-service__tests__e2e__evidence.json"));
  REQUIRE(b.ok());
  b->report[0x90] ^= 1;  // MEASUREMENT
  auto v = VerifyBundle(*b, AtVcekTime(*b));
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  CHECK(HasReason(*v, "snp"));
}

TEST_CASE("Trustee's e2e evidence does not verify when a nonce is expected") {
  auto b = FromTrusteeEvidenceFile(TeeKind::kSnp,
                                   Sample("attestation-service__tests__e2e__evidence.json"));
  REQUIRE(b.ok());
  auto o = AtVcekTime(*b);
  o.expected_nonce = "abc";
  auto v = VerifyBundle(*b, o);
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  CHECK(HasReason(*v, "no runtime data"));
}

TEST_CASE("Trustee's Azure SNP evidence verifies with its nonce (v0, v1: \"challenge\")") {
  for (const char* name : {"deps__verifier__test_data__az-snp-vtpm__evidence-v0.json",
                           "deps__verifier__test_data__az-snp-vtpm__evidence-v1.json"}) {
    INFO(name);
    auto b = FromTrusteeEvidenceFile(TeeKind::kAzSnpVtpm, Sample(name));
    REQUIRE(b.ok());
    auto o = AtVcekTime(*b);
    o.expected_report_data = Bytes{'c', 'h', 'a', 'l', 'l', 'e', 'n', 'g', 'e'};
    auto v = VerifyBundle(*b, o);
    REQUIRE(v.ok());
    INFO(Reasons(*v));
    CHECK(v->verified);
    CHECK(v->claims.product == "Milan");
    CHECK(v->claims.pcrs.at(DigestAlg::kSha256).size() == 24);
  }
}

TEST_CASE("Trustee's Azure SNP v2 evidence verifies with its digest in the quote and user-data") {
  auto b = FromTrusteeEvidenceFile(
      TeeKind::kAzSnpVtpm, Sample("deps__verifier__test_data__az-snp-vtpm__evidence-v2.json"));
  REQUIRE(b.ok());
  auto o = AtVcekTime(*b);
  o.expected_report_data = *HexDecode(
      "982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9aa398f647caa2338748cd0fd9f"
      "5f819ef");
  auto v = VerifyBundle(*b, o);
  REQUIRE(v.ok());
  INFO(Reasons(*v));
  CHECK(v->verified);
}

TEST_CASE("Trustee's Azure SNP evidence with another nonce is rejected") {
  auto b = FromTrusteeEvidenceFile(
      TeeKind::kAzSnpVtpm, Sample("deps__verifier__test_data__az-snp-vtpm__evidence-v2.json"));
  REQUIRE(b.ok());
  auto o = AtVcekTime(*b);
  o.expected_report_data = Bytes(48, 0x11);
  auto v = VerifyBundle(*b, o);
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  CHECK(HasReason(*v, "qualifying data"));
  CHECK(HasReason(*v, "user-data"));
}

TEST_CASE("Trustee's Azure SNP evidence with a changed PCR is rejected") {
  auto b = FromTrusteeEvidenceFile(
      TeeKind::kAzSnpVtpm, Sample("deps__verifier__test_data__az-snp-vtpm__evidence-v1.json"));
  REQUIRE(b.ok());
  b->tpm->pcrs[DigestAlg::kSha256][7][0] ^= 1;
  auto o = AtVcekTime(*b);
  o.expected_report_data = Bytes{'c', 'h', 'a', 'l', 'l', 'e', 'n', 'g', 'e'};
  auto v = VerifyBundle(*b, o);
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  CHECK(HasReason(*v, "tpm quote"));
}

TEST_CASE("An Azure bundle read as the other Azure kind is rejected") {
  auto b = FromTrusteeEvidenceFile(
      TeeKind::kAzSnpVtpm, Sample("deps__verifier__test_data__az-snp-vtpm__evidence-v1.json"));
  REQUIRE(b.ok());
  b->tee = TeeKind::kAzTdxVtpm;
  auto v = VerifyBundle(*b, AtVcekTime(*b));
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  CHECK(HasReason(*v, "hcl report"));
}

TEST_CASE("Trustee's tpm evidence verifies its quote signature and PCR digest") {
  auto t =
      FromTrusteeTpmEvidence(json::parse(Sample("deps__verifier__test_data__tpm_evidence.json")));
  REQUIRE(t.ok());
  // The e2e SNP report cannot bind this AK, so check the TPM part alone through a raw-free
  // bundle: the verdict must not complain about the quote itself.
  auto b = FromTrusteeEvidenceFile(TeeKind::kSnp,
                                   Sample("attestation-service__tests__e2e__evidence.json"));
  REQUIRE(b.ok());
  b->tpm = *t;
  auto v = VerifyBundle(*b, AtVcekTime(*b));
  REQUIRE(v.ok());
  CHECK_FALSE(HasReason(*v, "tpm quote"));
  CHECK(v->claims.pcrs.at(DigestAlg::kSha256).size() == 24);
  b->tpm->attest.back() ^= 1;
  v = VerifyBundle(*b, AtVcekTime(*b));
  REQUIRE(v.ok());
  CHECK(HasReason(*v, "tpm quote"));
}

TEST_CASE("A TDX quote without collateral is refused unless signature-only is asked for") {
  Bundle b;
  b.tee = TeeKind::kTdx;
  b.report = cvm::testing::ReadData("vectors/tdx/v4-dcap/quote.bin");
  BundleVerifyOptions o;
  o.at = std::chrono::sys_days{std::chrono::year{2025} / 6 / 20};
  auto v = VerifyBundle(b, o);
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  CHECK(HasReason(*v, "collateral is required"));
  o.tdx_signature_only = true;
  v = VerifyBundle(b, o);
  REQUIRE(v.ok());
  INFO(Reasons(*v));
  CHECK(v->verified);
  bool noted = false;
  for (const auto& n : v->notes) noted |= n.find("signature only") != std::string::npos;
  CHECK(noted);
}

TEST_CASE("A TDX quote with its collateral verifies and reports the TCB status") {
  Bundle b;
  b.tee = TeeKind::kTdx;
  b.report = cvm::testing::ReadData("vectors/tdx/v4-dcap/quote.bin");
  Bytes c = cvm::testing::ReadData("vectors/tdx/v4-dcap/collateral.json");
  b.collateral.assign(c.begin(), c.end());
  BundleVerifyOptions o;
  o.at = std::chrono::sys_days{std::chrono::year{2025} / 6 / 20};
  auto v = VerifyBundle(b, o);
  REQUIRE(v.ok());
  INFO(Reasons(*v));
  CHECK(v->verified);
  REQUIRE(v->claims.tcb_status.has_value());
  CHECK(*v->claims.tcb_status == "UpToDate");
}

TEST_CASE("A TDX quote with a CCEL that does not replay to its RTMRs is rejected") {
  Bundle b;
  b.tee = TeeKind::kTdx;
  b.report = cvm::testing::ReadData("vectors/tdx/gcp-ccel/quote.bin");
  b.ccel = cvm::testing::ReadData("vectors/tdx/gcp-ccel/ccel_data.bin");
  BundleVerifyOptions o;
  o.tdx_signature_only = true;
  o.at = std::chrono::sys_days{std::chrono::year{2025} / 1 / 1};
  auto v = VerifyBundle(b, o);
  REQUIRE(v.ok());
  INFO(Reasons(*v));
  CHECK(v->verified);
  b.ccel = cvm::testing::ReadData("vectors/trustee/deps__verifier__test_data__CCEL_data_ovmf");
  v = VerifyBundle(b, o);
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  CHECK(HasReason(*v, "ccel"));
}

}  // namespace
}  // namespace cvm::evidence
