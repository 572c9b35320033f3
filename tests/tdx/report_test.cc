#include "tdx/report.h"

#include <algorithm>
#include <catch2/catch.hpp>

#include "common/digest.h"

namespace cvm::tdx {
namespace {

// A TDREPORT with distinct field values and consistent hashes.
Bytes MakeReport() {
  Bytes r(kTdReportSize, 0);
  r[0] = kReportTypeTdx;
  for (size_t i = 0; i < 64; ++i) r[128 + i] = static_cast<uint8_t>(i);  // REPORTDATA
  std::fill(r.begin() + 528, r.begin() + 576, 0xaa);                     // MRTD
  std::fill(r.begin() + 864, r.begin() + 912, 0xbb);                     // RTMR3
  r[256 + 8] = 5;                                                        // TEE_TCB_SVN[0]
  Bytes tcb_hash = Sha384(ByteSpan(r).subspan(256, 239));
  Bytes info_hash = Sha384(ByteSpan(r).subspan(512, 512));
  std::copy(tcb_hash.begin(), tcb_hash.end(), r.begin() + 32);
  std::copy(info_hash.begin(), info_hash.end(), r.begin() + 80);
  return r;
}

TEST_CASE("A TDREPORT's fields are read at their offsets") {
  auto r = ParseTdReport(MakeReport());
  REQUIRE(r.ok());
  CHECK(r->report_data[63] == 63);
  CHECK(r->mrtd == Bytes(48, 0xaa));
  CHECK(r->rtmr[3] == Bytes(48, 0xbb));
  CHECK(r->rtmr[2] == Bytes(48, 0));
  CHECK(r->tee_tcb_svn[0] == 5);
  CHECK(CheckTdReportHashes(*r).ok());
}

TEST_CASE("A TDREPORT whose TDINFO was altered fails the hash check") {
  Bytes b = MakeReport();
  b[600] ^= 1;
  auto r = ParseTdReport(b);
  REQUIRE(r.ok());
  Status s = CheckTdReportHashes(*r);
  CHECK(s.code() == Code::kRejected);
  CHECK(s.message().find("TEE_INFO_HASH") != std::string::npos);
}

TEST_CASE("A TDREPORT of the wrong size or type is refused") {
  Bytes b = MakeReport();
  CHECK(ParseTdReport(ByteSpan(b).first(1000)).status().code() == Code::kInvalidInput);
  b[0] = 0x00;
  CHECK(ParseTdReport(b).status().code() == Code::kInvalidInput);
}

}  // namespace
}  // namespace cvm::tdx
