#include "tdx/pck.h"

#include <catch2/catch.hpp>

#include "common/encoding.h"
#include "tdx/quote.h"
#include "tests/testing/testing.h"

namespace cvm::tdx {
namespace {

Certificate RealPck() {
  auto q = ParseQuote(testing::ReadData("vectors/tdx/v4-dcap/quote.bin"));
  auto certs = ParseCertificates(q->certification.pck_cert_data);
  return (*certs)[0];
}

TEST_CASE("The real PCK certificate's SGX extensions are read") {
  auto ext = PckExtensionsOf(RealPck());
  INFO(ext.status().ToString());
  REQUIRE(ext.ok());
  CHECK(ext->ppid.size() == 16);
  CHECK(ext->cpu_svn.size() == 16);
  CHECK(ext->pce_svn == 11);
  CHECK(HexEncode(ext->fmspc) == "b0c06f000000");
  // CPUSVN carries the same 16 SGX TCB component SVNs.
  CHECK(Bytes(ext->tcb_comps.begin(), ext->tcb_comps.end()) == ext->cpu_svn);
}

TEST_CASE("Encoded extensions parse back to the same values") {
  PckExtensions e;
  e.ppid = Bytes(16, 7);
  e.tcb_comps = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 255};
  e.pce_svn = 65535;
  e.cpu_svn = Bytes(16, 9);
  e.pce_id = {0, 1};
  e.fmspc = {1, 2, 3, 4, 5, 6};
  e.sgx_type = 2;
  auto der = EncodePckExtensions(e);
  REQUIRE(der.ok());
  auto back = ParsePckExtensions(*der);
  REQUIRE(back.ok());
  CHECK(back->tcb_comps == e.tcb_comps);
  CHECK(back->pce_svn == 65535);
  CHECK(back->fmspc == e.fmspc);
  CHECK(back->pce_id == e.pce_id);
  CHECK(back->sgx_type == 2);
}

TEST_CASE("A truncated extension is refused as invalid input") {
  PckExtensions e;
  e.ppid = Bytes(16, 0);
  e.cpu_svn = Bytes(16, 0);
  e.pce_id = {0, 0};
  e.fmspc = {0, 0, 0, 0, 0, 0};
  Bytes der = *EncodePckExtensions(e);
  // Truncating the outer SEQUENCE makes it malformed.
  auto bad = ParsePckExtensions(ByteSpan(der).first(der.size() - 5));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == Code::kInvalidInput);
}

TEST_CASE("An FMSPC of the wrong size is refused") {
  PckExtensions e;
  e.ppid = Bytes(16, 0);
  e.cpu_svn = Bytes(16, 0);
  e.pce_id = {0, 0};
  e.fmspc = {0, 0, 0};
  auto der = EncodePckExtensions(e);
  REQUIRE(der.ok());
  auto parsed = ParsePckExtensions(*der);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.status().message().find("FMSPC") != std::string::npos);
}

TEST_CASE("Bytes that are not DER are refused") {
  CHECK(ParsePckExtensions(AsBytes("not der")).status().code() == Code::kInvalidInput);
  CHECK(ParsePckExtensions({}).status().code() == Code::kInvalidInput);
}

}  // namespace
}  // namespace cvm::tdx
