// Mutation tests over the real Azure vTPM evidence: flipping any byte of the TPM quote's
// TPMS_ATTEST (tpm-quote-v1.json "message") or of the HCL report's runtime claims must make
// verification fail. (The SNP report inside the HCL blob is mutated in tests/snp.)
#include <catch2/catch.hpp>

#include "common/encoding.h"
#include "tests/testing/testing.h"
#include "tpm/hcl.h"

namespace cvm::tpm {
namespace {

const Bytes kChallenge = ToBytes(AsBytes("challenge"));

TEST_CASE("Every byte of the Azure TPM quote's TPMS_ATTEST, flipped, is rejected") {
  auto report = ParseHclReport(testing::ReadData("vectors/snp/azure-vtpm/hcl-report.bin"));
  Bytes json = testing::ReadData("vectors/snp/azure-vtpm/tpm-quote-v1.json");
  auto quote = ParseAzureTpmQuote(AsChars(json));
  REQUIRE((report.ok() && quote.ok()));
  REQUIRE(VerifyAzureTpmQuote(*report, *quote, ByteSpan(kChallenge)).ok());
  size_t accepted = 0;
  for (size_t i = 0; i < quote->attest.size(); ++i) {
    AzureTpmQuote mutated = *quote;
    mutated.attest[i] ^= 0xff;
    if (VerifyAzureTpmQuote(*report, mutated, ByteSpan(kChallenge)).ok()) {
      UNSCOPED_INFO("TPMS_ATTEST byte " << i << " flipped is accepted");
      ++accepted;
    }
  }
  CHECK(accepted == 0);
}

TEST_CASE("Every byte of the Azure HCL runtime claims, flipped, breaks parsing or the binding") {
  Bytes data = testing::ReadData("vectors/snp/azure-vtpm/hcl-report.bin");
  auto parsed = ParseHclReport(data);
  REQUIRE(parsed.ok());
  REQUIRE(VerifyHclBinding(*parsed).ok());
  size_t accepted = 0;
  for (size_t i = kHclClaimsOffset; i < kHclClaimsOffset + parsed->runtime_claims.size(); ++i) {
    Bytes mutated = data;
    mutated[i] ^= 0xff;
    auto r = ParseHclReport(mutated);
    if (r.ok() && VerifyHclBinding(*r).ok()) {
      UNSCOPED_INFO("claims byte " << i << " flipped is accepted");
      ++accepted;
    }
  }
  CHECK(accepted == 0);
}

}  // namespace
}  // namespace cvm::tpm
