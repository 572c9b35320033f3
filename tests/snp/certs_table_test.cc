#include "snp/certs_table.h"

#include <catch2/catch.hpp>

namespace cvm::snp {
namespace {

std::vector<CertTableEntry> Sample() {
  return {{CertKindGuid(CertKind::kVcek), CertKind::kVcek, Bytes{1, 2, 3}},
          {CertKindGuid(CertKind::kAsk), CertKind::kAsk, Bytes{4, 5}},
          {CertKindGuid(CertKind::kArk), CertKind::kArk, Bytes{6}}};
}

TEST_CASE("A serialized certificate table parses back to the same entries") {
  auto parsed = ParseCertTable(SerializeCertTable(Sample()));
  REQUIRE(parsed.ok());
  REQUIRE(parsed->size() == 3);
  CHECK((*parsed)[0].kind == CertKind::kVcek);
  CHECK((*parsed)[0].data == Bytes{1, 2, 3});
  CHECK(*FindCert(*parsed, CertKind::kArk) == Bytes{6});
  CHECK(FindCert(*parsed, CertKind::kVlek) == nullptr);
}

TEST_CASE("GUIDs are AMD's, in canonical string order") {
  CHECK(GuidToString(CertKindGuid(CertKind::kArk)) == "c0b406a4-a803-4952-9743-3fb6014cd0ae");
  CHECK(GuidToString(CertKindGuid(CertKind::kAsk)) == "4ab7b379-bbac-4fe4-a02f-05aef327c782");
  CHECK(GuidToString(CertKindGuid(CertKind::kVcek)) == "63da758d-e664-4564-adc5-f4b93be8accd");
  CHECK(GuidToString(CertKindGuid(CertKind::kVlek)) == "a8074bc2-a25a-483e-aae6-39c045a0b8a1");
  CHECK(GuidToString(CertKindGuid(CertKind::kCrl)) == "92f81bc3-5811-4d3d-97ff-d19f88dc67ea");
}

TEST_CASE("An empty or all-zero buffer is a table without certificates") {
  CHECK(ParseCertTable({})->empty());
  CHECK(ParseCertTable(Bytes(4096, 0))->empty());
}

TEST_CASE("Trailing page padding after the data is ignored") {
  Bytes t = SerializeCertTable(Sample());
  t.resize(4096, 0);
  auto parsed = ParseCertTable(t);
  REQUIRE(parsed.ok());
  CHECK(parsed->size() == 3);
}

TEST_CASE("A table without a terminator is refused") {
  Bytes t = SerializeCertTable(Sample());
  t.resize(3 * kCertTableEntrySize);  // cut before the terminator
  CHECK(ParseCertTable(t).status().message().find("terminating") != std::string::npos);
}

TEST_CASE("An entry whose data runs past the buffer is refused") {
  Bytes t = SerializeCertTable(Sample());
  StoreLe32(t, 20, 1000);
  auto r = ParseCertTable(t);
  CHECK(r.status().code() == Code::kInvalidInput);
  CHECK(r.status().message().find("runs past") != std::string::npos);
}

TEST_CASE("An offset into the entries is refused") {
  Bytes t = SerializeCertTable(Sample());
  StoreLe32(t, 16, 8);
  CHECK(ParseCertTable(t).status().message().find("points into") != std::string::npos);
}

TEST_CASE("A GUID listed twice is refused") {
  auto e = Sample();
  e[1].guid = e[0].guid;
  CHECK(ParseCertTable(SerializeCertTable(e)).status().message().find("twice") !=
        std::string::npos);
}

TEST_CASE("Offsets near 2^32 do not wrap around") {
  Bytes t = SerializeCertTable(Sample());
  StoreLe32(t, 16, 0xffffffff);
  StoreLe32(t, 20, 0xffffffff);
  CHECK(ParseCertTable(t).status().code() == Code::kInvalidInput);
}

}  // namespace
}  // namespace cvm::snp
