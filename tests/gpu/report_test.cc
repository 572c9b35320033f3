#include "gpu/report.h"

#include <catch2/catch.hpp>

#include "common/encoding.h"
#include "tests/gpu/fixtures.h"

namespace cvm::gpu {
namespace {

using testing::NvtrustHopper;
using testing::RawReport;

TEST_CASE("The nvtrust Hopper sample parses into 64 blocks and its opaque fields") {
  auto r = ParseReport(RawReport(NvtrustHopper()));
  REQUIRE(r.ok());
  CHECK(r->blocks.size() == 64);
  CHECK(r->blocks[0].index == 1);
  CHECK(r->blocks[0].value.size() == 48);
  CHECK(HexEncode(r->nonce) == NvtrustHopper().nonce_hex);
  CHECK(r->opaque.driver_version == "550.90.07");
  CHECK(r->opaque.vbios_version == "96.00.9F.00.01");
  CHECK(r->opaque.project == "1010");
  CHECK(r->opaque.project_sku == "0200");
  CHECK(r->opaque.chip_sku == "882");
  REQUIRE(r->opaque.fwid.has_value());
  CHECK(HexEncode(*r->opaque.fwid).rfind("f5c384ae", 0) == 0);
  CHECK(r->opaque.nvdec0_status.has_value());
  CHECK(r->signature.size() == kSignatureSize);
  CHECK(r->trailing_zero_bytes == 0);
  CHECK(r->signed_size + kSignatureSize == RawReport(NvtrustHopper()).size());
}

TEST_CASE("A report with a trailing zero byte parses with the signature at the parsed offset") {
  Bytes raw = RawReport(testing::TrusteeCoco());
  auto r = ParseReport(raw);
  REQUIRE(r.ok());
  CHECK(r->trailing_zero_bytes == 1);
  CHECK(r->opaque.driver_version == "580.95.05");
  CHECK(r->opaque.vbios_version == "96.00.74.00.1A");
}

TEST_CASE("The 535.86.09 report has no FWID field") {
  auto r = ParseReport(RawReport(testing::Nvat535()));
  REQUIRE(r.ok());
  CHECK_FALSE(r->opaque.fwid.has_value());
  CHECK(r->opaque.driver_version == "535.86.09");
  CHECK(r->opaque.vbios_version == "96.00.5E.00.01");
}

TEST_CASE("Hex text and raw bytes decode to the same report") {
  Bytes text = testing::ReadVec(NvtrustHopper().report_path);
  auto raw = DecodeReportBytes(text);
  REQUIRE(raw.ok());
  auto again = DecodeReportBytes(*raw);
  REQUIRE(again.ok());
  CHECK(*again == *raw);
  CHECK((*raw)[0] == 0x11);
}

TEST_CASE("Non-zero bytes after the signature are refused") {
  Bytes raw = RawReport(NvtrustHopper());
  raw.push_back(0x01);
  auto r = ParseReport(raw);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("after the signature") != std::string::npos);
}

TEST_CASE("Every truncation of a report is refused without a crash") {
  Bytes raw = RawReport(NvtrustHopper());
  for (size_t n = 0; n < raw.size(); n += 13) {
    auto r = ParseReport(ByteSpan(raw).subspan(0, n));
    CHECK_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidInput);
  }
}

TEST_CASE("A measurement block whose specification is not DMTF is refused") {
  Bytes raw = RawReport(NvtrustHopper());
  raw[kRequestSize + kResponseHeaderSize + 1] = 2;  // first block's MeasurementSpecification
  auto r = ParseReport(raw);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("DMTF") != std::string::npos);
}

TEST_CASE("A wrong request code or SPDM version is refused") {
  Bytes raw = RawReport(NvtrustHopper());
  Bytes a = raw;
  a[0] = 0x12;
  CHECK_FALSE(ParseReport(a).ok());
  Bytes b = raw;
  b[1] = 0xE1;
  CHECK_FALSE(ParseReport(b).ok());
  Bytes c = raw;
  c[kRequestSize + 1] = 0x61;
  CHECK_FALSE(ParseReport(c).ok());
}

TEST_CASE("Opaque data needs the driver and VBIOS versions and refuses duplicates") {
  Bytes only_driver = {3, 0, 2, 0, '1', 0};
  auto a = ParseOpaqueData(only_driver);
  REQUIRE_FALSE(a.ok());
  CHECK(a.status().message().find("VBIOS_VERSION") != std::string::npos);
  Bytes dup = {3, 0, 2, 0, '1', 0, 6, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 1, 0, '2'};
  auto b = ParseOpaqueData(dup);
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().message().find("duplicate") != std::string::npos);
  Bytes ok = {3, 0, 2, 0, '1', 0, 6, 0, 8, 0, 0x01, 0x02, 0x03, 0x04, 0x05, 0, 0, 0, 99, 0, 0, 0};
  auto c = ParseOpaqueData(ok);
  REQUIRE(c.ok());
  CHECK(c->vbios_version == "04.03.02.01.05");
  CHECK(c->fields.size() == 3);  // the unknown type 99 is kept
}

TEST_CASE("A FEATURE_FLAG counts only from opaque data version 1") {
  Bytes v0 = {3, 0, 1, 0, '1', 6, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 36, 0, 4, 0, 1, 0, 0, 0};
  auto a = ParseOpaqueData(v0);
  REQUIRE(a.ok());
  CHECK_FALSE(a->feature_flag.has_value());
  Bytes v1 = v0;
  Bytes ver = {34, 0, 4, 0, 1, 0, 0, 0};
  v1.insert(v1.end(), ver.begin(), ver.end());
  auto b = ParseOpaqueData(v1);
  REQUIRE(b.ok());
  REQUIRE(b->feature_flag.has_value());
  CHECK(FeatureFlagName(*b->feature_flag) == "MPT");
}

}  // namespace
}  // namespace cvm::gpu
