// Mutation tests over the real TDX quotes: flipping a byte of anything the quote's signatures
// cover must make verification fail. The header and TD report body (signed by the attestation
// key) are flipped byte by byte; the attestation key, QE report and QE auth data (bound by the
// PCK's signature over the QE report) with a stride, to keep the test fast under ASan.
#include <catch2/catch.hpp>

#include "common/clock.h"
#include "tdx/quote.h"
#include "tdx/verify.h"
#include "tests/testing/testing.h"

namespace cvm::tdx {
namespace {

Status Verify(ByteSpan data) {
  auto q = ParseQuote(data);
  if (!q.ok()) return q.status();
  QuoteVerifyOptions o;
  o.at = *ParseTime("2026-06-01T00:00:00Z");  // inside every vector certificate's validity
  return VerifyQuote(*q, o).status();
}

TEST_CASE("Every byte of a real quote's signed header and body, flipped, is rejected") {
  for (const char* f : {"vectors/tdx/v4-dcap/quote.bin", "vectors/tdx/v5/quote.bin"}) {
    INFO(f);
    Bytes quote = testing::ReadData(f);
    REQUIRE(Verify(quote).ok());
    auto parsed = ParseQuote(quote);
    REQUIRE(parsed.ok());
    // signed_data is header || (v5: body descriptor ||) body, at the start of the quote.
    const size_t signed_size = parsed->signed_data.size();
    REQUIRE(signed_size >= kQuoteHeaderSize + kTd10BodySize);
    // After the signed data: u32 signature data length, signature, attestation key, then the
    // certification data header (u16 type, u32 size), QE report, its signature, auth data.
    const size_t att_key = signed_size + 4 + kEcdsaP256SigSize;
    const size_t qe_report = att_key + kEcdsaP256KeySize + 6;
    const size_t auth_end = qe_report + kQeReportSize + kEcdsaP256SigSize + 2 +
                            parsed->certification.qe_auth_data.size();
    REQUIRE(auth_end < quote.size());
    std::vector<size_t> offsets;
    for (size_t i = 0; i < signed_size; ++i) offsets.push_back(i);
    for (size_t i = signed_size; i < auth_end; i += 3) offsets.push_back(i);
    size_t accepted = 0;
    for (size_t i : offsets) {
      Bytes mutated = quote;
      mutated[i] ^= 0xff;
      if (Verify(mutated).ok()) {
        UNSCOPED_INFO("byte " << i << " flipped is accepted");
        ++accepted;
      }
    }
    CHECK(accepted == 0);
  }
}

}  // namespace
}  // namespace cvm::tdx
