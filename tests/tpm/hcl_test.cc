// Azure HCL reports: the real Azure vector, hand-made reports, and fetching through swtpm.
#include "tpm/hcl.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/keys.h"
#include "tests/testing/testing.h"
#include "tests/tpm/hcl_util.h"
#include "tests/tpm/swtpm_fixture.h"
#include "tpm/tpm.h"

namespace cvm::tpm {
namespace {

Bytes AzureReport() { return testing::ReadData("vectors/snp/azure-vtpm/hcl-report.bin"); }
std::string AzureQuoteJson() {
  Bytes b = testing::ReadData("vectors/snp/azure-vtpm/tpm-quote-v1.json");
  return std::string(AsChars(b));
}
const Bytes kChallenge = ToBytes(AsBytes("challenge"));

TEST_CASE("The Azure HCL report vector parses into its parts") {
  auto r = ParseHclReport(AzureReport());
  REQUIRE(r.ok());
  CHECK(r->version == 1);
  CHECK(r->report_size == 2346);
  CHECK(r->type == HclReportType::kSnp);
  CHECK(r->hardware_report.size() == 1184);
  CHECK(LoadLe32(r->hardware_report, 0) == 2);
  CHECK(r->claims_hash == DigestAlg::kSha256);
  CHECK(r->runtime_claims.size() == 1110);
  CHECK(KeyType(r->ak_pub.get()) == EVP_PKEY_RSA);
  CHECK(r->ek_pub != nullptr);
  REQUIRE(r->user_data.has_value());
  CHECK(*r->user_data == Bytes(64, 0));
}

TEST_CASE("The Azure HCL report's claims are bound to its SNP REPORT_DATA") {
  auto r = ParseHclReport(AzureReport());
  REQUIRE(r.ok());
  CHECK(VerifyHclBinding(*r).ok());
}

TEST_CASE("Changed runtime claims break the HCL binding") {
  Bytes data = AzureReport();
  std::string claims(AsChars(ByteSpan(data).subspan(kHclClaimsOffset, 1110)));
  size_t at = claims.find("911B0EF8");
  REQUIRE(at != std::string::npos);
  data[kHclClaimsOffset + at] = '8';
  auto r = ParseHclReport(data);
  REQUIRE(r.ok());
  CHECK(VerifyHclBinding(*r).code() == Code::kRejected);
}

TEST_CASE("A changed REPORT_DATA breaks the HCL binding") {
  Bytes data = AzureReport();
  data[kHclHardwareReportOffset + 0x50 + 31] ^= 1;
  auto r = ParseHclReport(data);
  REQUIRE(r.ok());
  CHECK(VerifyHclBinding(*r).code() == Code::kRejected);
}

TEST_CASE("The Azure TPM quote verifies with the HCLAkPub of the claims") {
  auto r = ParseHclReport(AzureReport());
  auto q = ParseAzureTpmQuote(AzureQuoteJson());
  REQUIRE((r.ok() && q.ok()));
  auto a = VerifyAzureTpmQuote(*r, *q, ByteSpan(kChallenge));
  INFO(a.status().ToString());
  REQUIRE(a.ok());
  CHECK(a->extra_data == kChallenge);
  CHECK(a->pcr_selection.banks.at(0).pcrs.size() == 24);
  CHECK(VerifyAzureTpmQuote(*r, *q, std::nullopt).ok());
}

TEST_CASE("The Azure TPM quote is rejected for another nonce, a changed PCR or the EK") {
  auto r = ParseHclReport(AzureReport());
  auto q = ParseAzureTpmQuote(AzureQuoteJson());
  REQUIRE((r.ok() && q.ok()));
  CHECK(VerifyAzureTpmQuote(*r, *q, ByteSpan(AsBytes("challengf"))).status().code() ==
        Code::kRejected);
  AzureTpmQuote changed = *q;
  changed.pcrs[DigestAlg::kSha256][23][0] ^= 1;
  CHECK(VerifyAzureTpmQuote(*r, changed, ByteSpan(kChallenge)).status().code() == Code::kRejected);
  HclReport with_ek = std::move(*r);
  with_ek.ak_pub = std::move(with_ek.ek_pub);
  CHECK(VerifyAzureTpmQuote(with_ek, *q, ByteSpan(kChallenge)).status().code() == Code::kRejected);
}

TEST_CASE("Malformed Azure TPM quote JSON is invalid input") {
  for (const char* bad : {"", "[]", "{}", "{\"message\":\"00\",\"signature\":\"zz\",\"pcrs\":[]}",
                          "{\"message\":\"00\",\"signature\":\"00\",\"pcrs\":[\"00\"]}",
                          "{\"message\":\"00\",\"signature\":\"00\",\"pcrs\":{}}"}) {
    INFO(bad);
    CHECK(ParseAzureTpmQuote(bad).status().code() == Code::kInvalidInput);
  }
}

TEST_CASE("Every truncation of an HCL report is invalid input") {
  Bytes data = AzureReport();
  data.resize(2346);
  CHECK(ParseHclReport(data).ok());
  for (size_t n = 0; n < data.size(); n += 7) {
    INFO(n);
    CHECK(ParseHclReport(ByteSpan(data).first(n)).status().code() == Code::kInvalidInput);
  }
}

TEST_CASE("An HCL report with another magic, report type or hash type is refused") {
  Bytes data = AzureReport();
  data[0] = 'X';
  CHECK(ParseHclReport(data).status().code() == Code::kInvalidInput);
  data = AzureReport();
  data[kHclIgvmOffset + 8] = 3;  // report_type 3: not SNP or TDX
  CHECK(ParseHclReport(data).status().code() == Code::kUnsupported);
  data = AzureReport();
  data[kHclIgvmOffset + 12] = 9;
  CHECK(ParseHclReport(data).status().code() == Code::kUnsupported);
}

TEST_CASE(
    "An HCL report whose IgvmRequestData.data_size disagrees with its variable data is refused") {
  Bytes data = AzureReport();
  CHECK(LoadLe32(data, kHclIgvmOffset) == 1130);  // 20 fixed bytes + 1110 bytes of claims
  for (uint32_t wrong : {1129u, 1131u, 0u, 0xFFFFFFFFu}) {
    INFO(wrong);
    StoreLe32(std::span<uint8_t>(data), kHclIgvmOffset, wrong);
    auto r = ParseHclReport(data);
    CHECK(r.status().code() == Code::kInvalidInput);
    CHECK(r.status().message().find("data_size " + std::to_string(wrong) + " does not match") !=
          std::string::npos);
  }
}

TEST_CASE("HCL runtime claims without an HCLAkPub or with broken JSON are invalid input") {
  CHECK(ParseHclReport(testing::MakeHcl("{\"keys\":[]}")).status().code() == Code::kInvalidInput);
  CHECK(ParseHclReport(testing::MakeHcl("{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\"}]}"))
            .status()
            .code() == Code::kInvalidInput);
  CHECK(ParseHclReport(testing::MakeHcl("{\"keys\":")).status().code() == Code::kInvalidInput);
}

TEST_CASE("A hand-made TDX HCL report takes REPORT_DATA from the TDREPORT") {
  auto ak = GenerateRsaKey(2048);
  std::string claims = testing::HclClaims(ak->get(), {});
  Bytes data = testing::MakeHcl(claims);
  StoreLe32(std::span<uint8_t>(data), kHclIgvmOffset + 8, 4);
  auto r = ParseHclReport(data);
  REQUIRE(r.ok());
  CHECK(r->hardware_report.size() == 1024);
  CHECK(VerifyHclBinding(*r).code() == Code::kRejected);  // the digest sits at the SNP offset
  Bytes digest = Sha256(AsBytes(claims));
  std::copy(digest.begin(), digest.end(), data.begin() + kHclHardwareReportOffset + 0x80);
  CHECK(VerifyHclBinding(*ParseHclReport(data)).ok());
}

TEST_CASE("Fetching the HCL report writes the user data and returns the report that carries it") {
  auto swtpm = testing::Swtpm::Start();
  REQUIRE(swtpm);
  auto tpm = OpenTpm(swtpm->tcti());
  REQUIRE(tpm.ok());
  auto ak = GenerateRsaKey(2048);
  Bytes user = {1, 2, 3};
  Bytes padded(64, 0);  // the user data, zero-padded to REPORT_DATA's 64 bytes
  std::copy(user.begin(), user.end(), padded.begin());
  Bytes report = testing::MakeHcl(testing::HclClaims(ak->get(), padded));
  REQUIRE((*tpm)->NvWrite(kHclReportNvIndex, report).ok());  // what Azure's paravisor provides
  int sleeps = 0;
  HclFetchOptions options;
  options.attempts = 3;
  options.sleep = [&](std::chrono::milliseconds) { ++sleeps; };
  auto got = FetchAzureHclReport(**tpm, user, options);
  INFO(got.status().ToString());
  REQUIRE(got.ok());
  CHECK(*got == report);
  CHECK(sleeps == 1);
  CHECK(*(*tpm)->NvRead(kHclUserDataNvIndex) == padded);

  sleeps = 0;
  auto stale = FetchAzureHclReport(**tpm, Bytes{9}, options);
  CHECK(stale.status().code() == Code::kDeadlineExceeded);
  CHECK(sleeps == 3);
}

TEST_CASE("Fetching the HCL report from a TPM that has none is not found") {
  auto swtpm = testing::Swtpm::Start();
  REQUIRE(swtpm);
  auto tpm = OpenTpm(swtpm->tcti());
  REQUIRE(tpm.ok());
  HclFetchOptions options;
  options.sleep = [](std::chrono::milliseconds) {};
  CHECK(FetchAzureHclReport(**tpm, {}, options).status().code() == Code::kNotFound);
  CHECK(FetchAzureHclReport(**tpm, Bytes(65, 0), options).status().code() == Code::kInvalidInput);
}

}  // namespace
}  // namespace cvm::tpm
