// Mutation tests over the real SNP vectors: flipping any byte of the signed region of a genuine
// report (bytes [0, 0x2A0)) must make verification fail. Covers milan-v2, genoa-v3 and the SNP
// report inside the Azure HCL blob (azure-vtpm).
#include <catch2/catch.hpp>

#include "snp/verify.h"
#include "tests/snp/fixtures.h"

namespace cvm::snp {
namespace {

constexpr size_t kSignedSize = 0x2A0;

TEST_CASE("Every byte of every real report's signed region, flipped, is rejected") {
  for (const auto& v : testing::RealVectors()) {
    INFO(v.name);
    VerifyOptions o;
    o.certs = v.certs;
    o.at = testing::VectorTime();
    REQUIRE(VerifyReport(v.report, o).ok());
    size_t accepted = 0;
    for (size_t i = 0; i < kSignedSize; ++i) {
      Bytes mutated = v.report;
      mutated[i] ^= 0xff;
      if (VerifyReport(mutated, o).ok()) {
        UNSCOPED_INFO("byte 0x" << std::hex << i << " flipped is accepted");
        ++accepted;
      }
    }
    CHECK(accepted == 0);
  }
}

}  // namespace
}  // namespace cvm::snp
