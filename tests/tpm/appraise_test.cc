// tpm::AppraiseQuote and tpm::AppraiseAzureHcl: unquoted PCRs refused, expected PCRs and event-log
// PCRs inside the quoted selection, the Azure defaults.
#include "tpm/appraise.h"

#include <catch2/catch.hpp>

#include "common/encoding.h"
#include "common/keys.h"
#include "common/signature.h"
#include "tests/testing/testing.h"

namespace cvm::tpm {
namespace {

void Put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void Put32(Bytes& b, uint32_t v) {
  Put16(b, static_cast<uint16_t>(v >> 16));
  Put16(b, static_cast<uint16_t>(v));
}
void Put2b(Bytes& b, ByteSpan v) {
  Put16(b, static_cast<uint16_t>(v.size()));
  b.insert(b.end(), v.begin(), v.end());
}

const Bytes kNonce = {1, 2, 3};

PcrValues Pcrs() {
  PcrValues v;
  v[DigestAlg::kSha256][0] = Bytes(32, 1);
  v[DigestAlg::kSha256][2] = Bytes(32, 2);
  return v;
}

// A TPMS_ATTEST over sha256 PCRs 0 and 2 holding Pcrs(), with kNonce.
Bytes BuildAttest() {
  Bytes concat(32, 1);
  concat.insert(concat.end(), 32, 2);
  Bytes b;
  Put32(b, kTpmGeneratedValue);
  Put16(b, kStAttestQuote);
  Put2b(b, Bytes(34, 0x22));
  Put2b(b, kNonce);
  b.insert(b.end(), 8, 0);  // clock
  Put32(b, 1);
  Put32(b, 1);
  b.push_back(1);
  b.insert(b.end(), 8, 0);  // firmware version
  Put32(b, 1);
  Put16(b, 0x000B);
  b.push_back(3);
  b.insert(b.end(), {0x05, 0x00, 0x00});
  Put2b(b, Sha256(concat));
  return b;
}

struct Signed {
  ossl::PKey key;
  Bytes attest;
  TpmSignature sig;
};

Signed Sign() {
  auto key = GenerateRsaKey(2048);
  REQUIRE(key.ok());
  Signed s{std::move(*key), BuildAttest(), {}};
  s.sig.scheme = SigScheme::kRsaSsa;
  s.sig.sig = *SignRsaPkcs1(s.key.get(), DigestAlg::kSha256, s.attest);
  return s;
}

bool HasReason(const Verdict& v, const std::string& text) {
  for (const auto& r : v.reasons) {
    if (r.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST_CASE("AppraiseQuote verifies a quote whose PCR values are exactly the quoted ones") {
  Signed s = Sign();
  QuoteAppraiseOptions o;
  o.nonce = kNonce;
  auto a = AppraiseQuote(s.key.get(), s.attest, s.sig, Pcrs(), o);
  REQUIRE(a.ok());
  CHECK(a->verdict.verified);
  CHECK(a->verdict.tee == "tpm");
  CHECK(a->verdict.details["pcr_selection"] == "sha256:0,2");
}

TEST_CASE("AppraiseQuote refuses a PCR value outside the quoted selection") {
  Signed s = Sign();
  QuoteAppraiseOptions o;
  o.nonce = kNonce;
  PcrValues forged = Pcrs();
  forged[DigestAlg::kSha256][7] = Bytes(32, 7);
  o.expected_pcrs = PcrValues{{DigestAlg::kSha256, {{7, Bytes(32, 7)}}}};
  auto a = AppraiseQuote(s.key.get(), s.attest, s.sig, forged, o);
  REQUIRE(a.ok());
  CHECK_FALSE(a->verdict.verified);
  CHECK_FALSE(a->verdict.genuine);
  CHECK(HasReason(a->verdict, "sha256:7"));
  CHECK(HasReason(a->verdict, "outside the quoted selection"));
}

TEST_CASE("AppraiseQuote rejects an expected PCR that the quote does not cover") {
  Signed s = Sign();
  QuoteAppraiseOptions o;
  o.nonce = kNonce;
  o.expected_pcrs = PcrValues{{DigestAlg::kSha256, {{0, Bytes(32, 1)}, {7, Bytes(32, 7)}}}};
  auto a = AppraiseQuote(s.key.get(), s.attest, s.sig, Pcrs(), o);
  REQUIRE(a.ok());
  CHECK(a->verdict.genuine);
  CHECK_FALSE(a->verdict.verified);
  CHECK(HasReason(a->verdict, "expected PCR sha256:7 is not in the quoted selection"));
}

TEST_CASE("AppraiseQuote rejects an event log that extends PCRs the quote does not cover") {
  Signed s = Sign();
  auto log = tcg::ParseEventLog(testing::ReadData("vectors/tpm/rhel8-uefi.bin"));
  REQUIRE(log.ok());
  QuoteAppraiseOptions o;
  o.nonce = kNonce;
  o.event_log = &*log;
  auto a = AppraiseQuote(s.key.get(), s.attest, s.sig, Pcrs(), o);
  REQUIRE(a.ok());
  CHECK_FALSE(a->verdict.verified);
  CHECK(HasReason(a->verdict, "the event log extends sha256:1, which the quote"));
}

TEST_CASE("AppraiseQuote requires a nonce") {
  Signed s = Sign();
  CHECK(
      AppraiseQuote(s.key.get(), s.attest, s.sig, Pcrs(), QuoteAppraiseOptions{}).status().code() ==
      Code::kInvalidInput);
}

AzureAppraiseOptions AzureOptions() {
  AzureAppraiseOptions o;
  auto certs = ParseCertificates(testing::ReadData("vectors/snp/azure-vtpm/vcek_ask_ark.pem"));
  REQUIRE(certs.ok());
  o.snp.certs = *certs;
  return o;
}

Bytes Hcl() { return testing::ReadData("vectors/snp/azure-vtpm/hcl-report.bin"); }

AzureTpmQuote AzureQuote() {
  auto q =
      ParseAzureTpmQuote(AsChars(testing::ReadData("vectors/snp/azure-vtpm/tpm-quote-v1.json")));
  REQUIRE(q.ok());
  return *q;
}

// Inside the Azure VCEK's validity.
FixedClock AzureClock(const AzureAppraiseOptions& o) {
  return FixedClock(TimePoint(*o.snp.certs.front().NotBefore() + std::chrono::hours(24)));
}

TEST_CASE("AppraiseAzureHcl verifies the report, its binding and its TPM quote with the nonce") {
  AzureAppraiseOptions o = AzureOptions();
  o.tpm_quote = AzureQuote();
  o.nonce = ToBytes(AsBytes("challenge"));
  auto a = AppraiseAzureHcl(Hcl(), o, AzureClock(o));
  REQUIRE(a.ok());
  INFO((a->verdict.reasons.empty() ? "" : a->verdict.reasons[0]));
  CHECK(a->verdict.verified);
  CHECK(a->verdict.tee == "az-snp-vtpm");
  CHECK(a->verdict.details["claims_binding"] == "verified");
  CHECK(a->verdict.details["tpm_quote"]["nonce_checked"] == true);
  CHECK(a->tpm_quote.has_value());
}

TEST_CASE("AppraiseAzureHcl needs a nonce with a TPM quote unless told to ignore it") {
  AzureAppraiseOptions o = AzureOptions();
  o.tpm_quote = AzureQuote();
  CHECK(AppraiseAzureHcl(Hcl(), o, AzureClock(o)).status().code() == Code::kInvalidInput);
  o.ignore_nonce = true;
  auto a = AppraiseAzureHcl(Hcl(), o, AzureClock(o));
  REQUIRE(a.ok());
  CHECK(a->verdict.verified);
  CHECK_FALSE(a->verdict.notes.empty());
}

TEST_CASE("AppraiseAzureHcl applies the caller's product to the HCL's SNP report") {
  AzureAppraiseOptions o = AzureOptions();
  o.snp.product = snp::Product::kGenoa;  // the Azure vector is a Milan report
  auto a = AppraiseAzureHcl(Hcl(), o, AzureClock(o));
  REQUIRE(a.ok());
  CHECK_FALSE(a->verdict.verified);
}

}  // namespace
}  // namespace cvm::tpm
