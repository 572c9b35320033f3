#include "snp/report.h"

#include <catch2/catch.hpp>

#include "common/encoding.h"
#include "tests/snp/fixtures.h"
#include "tests/testing/testing.h"

namespace cvm::snp {
namespace {

Bytes Milan() { return cvm::testing::ReadData("vectors/snp/milan-v2/report.bin"); }
Bytes Genoa() { return cvm::testing::ReadData("vectors/snp/genoa-v3/report.bin"); }

TEST_CASE("The real Genoa v3 report parses with the fields firmware wrote") {
  auto r = ParseReport(Genoa());
  REQUIRE(r.ok());
  CHECK(r->version == 3);
  CHECK(r->guest_svn == 2);
  CHECK(r->policy == 0x3001f);
  CHECK(r->vmpl == 0);
  CHECK(r->signature_algo == 1);
  CHECK(r->cpuid_fam_id == 0x19);
  CHECK(r->cpuid_mod_id == 0x11);
  CHECK(r->cpuid_step == 0x01);
  CHECK(ProductFromCpuid(*r) == Product::kGenoa);
  CHECK(r->reported_tcb == 0x541700000000000aULL);
  TcbParts t = DecodeTcb(r->reported_tcb, Product::kGenoa);
  CHECK(t == TcbParts{.fmc = 0, .bootloader = 10, .tee = 0, .snp = 23, .microcode = 84});
  CHECK(HexEncode(r->measurement).rfind("5feee30d6d7e1a29", 0) == 0);
  CHECK(HexEncode(r->chip_id).rfind("b1e24a27bbc3a4d5", 0) == 0);
  CHECK(r->current_build == 0x28);
  CHECK(r->current_minor == 0x37);
  CHECK(r->current_major == 1);
  CHECK(r->platform_info == 0x27);
  CHECK(r->Signer().signing_key == SigningKey::kVcek);
}

TEST_CASE("The real Milan v2 report parses and does not claim a product") {
  auto r = ParseReport(Milan());
  REQUIRE(r.ok());
  CHECK(r->version == 2);
  CHECK(r->policy == 0xb0000);
  CHECK(DecodePolicy(r->policy).smt);
  CHECK(DecodePolicy(r->policy).debug);
  CHECK(DecodePolicy(r->policy).single_socket == false);
  CHECK(ProductFromCpuid(*r) == Product::kUnknown);
  CHECK(DecodeTcb(r->reported_tcb, Product::kMilan) ==
        TcbParts{.fmc = 0, .bootloader = 2, .tee = 0, .snp = 5, .microcode = 68});
  CHECK(r->report_data[0] == 1);
  CHECK(r->report_data[4] == 5);
}

TEST_CASE("Serializing a parsed report gives back the exact bytes") {
  for (const auto& v : testing::RealVectors()) {
    auto r = ParseReport(v.report);
    REQUIRE(r.ok());
    CHECK(SerializeReport(*r) == v.report);
  }
}

TEST_CASE("A truncated report is refused naming its size") {
  Bytes b = Genoa();
  b.pop_back();
  auto r = ParseReport(b);
  CHECK(r.status().code() == Code::kInvalidInput);
  CHECK(r.status().message().find("1183") != std::string::npos);
  CHECK(r.status().message().find("truncated") != std::string::npos);
}

TEST_CASE("An oversized report is refused as trailing data") {
  Bytes b = Genoa();
  b.push_back(0);
  auto r = ParseReport(b);
  CHECK(r.status().code() == Code::kInvalidInput);
  CHECK(r.status().message().find("trailing") != std::string::npos);
}

TEST_CASE("Unknown report versions are refused, not misread") {
  for (uint32_t v : {0u, 1u, 6u, 0xffffffffu}) {
    Bytes b = Genoa();
    StoreLe32(b, 0, v);
    auto r = ParseReport(b);
    CHECK(r.status().code() == Code::kUnsupported);
    CHECK(r.status().message().find("version " + std::to_string(v)) != std::string::npos);
  }
}

TEST_CASE("A non-zero byte in any reserved range is refused naming the offset") {
  for (size_t off :
       {0x04Cu, 0x18Bu, 0x19Fu, 0x1EBu, 0x1EFu, 0x1F8u, 0x208u, 0x29Fu, 0x330u, 0x49Fu}) {
    Bytes b = Genoa();
    b[off] = 1;
    auto r = ParseReport(b);
    INFO(off);
    CHECK(r.status().code() == Code::kInvalidInput);
    CHECK(r.status().message().find("must be zero") != std::string::npos);
  }
}

TEST_CASE("Version 2 reports keep CPUID bytes reserved") {
  Bytes b = Milan();
  b[0x188] = 0x19;
  CHECK(ParseReport(b).status().code() == Code::kInvalidInput);
}

TEST_CASE("Mitigation vectors are fields in version 5 and reserved before") {
  Bytes b = Genoa();
  b[0x1F8] = 3;
  CHECK(ParseReport(b).status().code() == Code::kInvalidInput);
  StoreLe32(b, 0, 5);
  auto r = ParseReport(b);
  REQUIRE(r.ok());
  CHECK(r->launch_mit_vector == 3);
}

TEST_CASE("Policy bit 17 must be set and bits 63:26 clear") {
  Bytes b = Genoa();
  StoreLe64(b, 8, 0x1f);
  CHECK(ParseReport(b).status().message().find("bit 17") != std::string::npos);
  StoreLe64(b, 8, 0x3001f | (uint64_t{1} << 40));
  CHECK(ParseReport(b).status().message().find("63:26") != std::string::npos);
}

TEST_CASE("Reserved signing-key values and signer-info bits are refused") {
  Bytes b = Genoa();
  StoreLe32(b, 0x48, 2u << 2);
  CHECK(ParseReport(b).status().message().find("SIGNING_KEY 2") != std::string::npos);
  StoreLe32(b, 0x48, 1u << 5);
  CHECK(ParseReport(b).status().message().find("31:5") != std::string::npos);
}

TEST_CASE("Turin TCB puts FMC first and SNP in byte 3") {
  TcbParts t = DecodeTcb(0x5100000004010101ULL, Product::kTurin);
  CHECK(t == TcbParts{.fmc = 1, .bootloader = 1, .tee = 1, .snp = 4, .microcode = 0x51});
  CHECK(EncodeTcb(t, Product::kTurin) == 0x5100000004010101ULL);
}

TEST_CASE("Products are detected from CPUID family and model") {
  Report r;
  r.version = 3;
  r.cpuid_fam_id = 0x19;
  r.cpuid_mod_id = 0x01;
  CHECK(ProductFromCpuid(r) == Product::kMilan);
  r.cpuid_mod_id = 0xA0;
  CHECK(ProductFromCpuid(r) == Product::kGenoa);
  r.cpuid_fam_id = 0x1A;
  r.cpuid_mod_id = 0x02;
  CHECK(ProductFromCpuid(r) == Product::kTurin);
  r.cpuid_fam_id = 0x17;
  CHECK(ProductFromCpuid(r) == Product::kUnknown);
}

TEST_CASE("Product names parse with or without a stepping") {
  CHECK(*ParseProduct("Milan-B0") == Product::kMilan);
  CHECK(*ParseProduct("genoa") == Product::kGenoa);
  CHECK(*ParseProduct("Turin") == Product::kTurin);
  CHECK(ParseProduct("Naples").status().code() == Code::kInvalidInput);
}

}  // namespace
}  // namespace cvm::snp
