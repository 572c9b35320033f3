#include "common/bytes.h"

#include <catch2/catch.hpp>

namespace cvm {
namespace {

TEST_CASE("ByteReader reads little-endian fields in order") {
  const Bytes data = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                      0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
  ByteReader r(data, "test");
  CHECK(*r.U8("a") == 0x01);
  CHECK(*r.U16("b") == 0x0302);
  CHECK(*r.U32("c") == 0x07060504u);
  CHECK(*r.U64("d") == 0x0f0e0d0c0b0a0908ull);
  CHECK(r.empty());
}

TEST_CASE("ByteReader reads big-endian fields for TPM structures") {
  const Bytes data = {0xff, 0x54, 0x43, 0x47};
  ByteReader r(data, "attest", ByteReader::Endian::kBig);
  CHECK(*r.U32("magic") == 0xff544347u);
}

TEST_CASE("A short buffer is an error that names the field, offset and sizes") {
  const Bytes data = {0x01, 0x02, 0x03};
  ByteReader r(data, "event log");
  REQUIRE(r.U16("pcr index").ok());
  auto v = r.U32("event size");
  REQUIRE_FALSE(v.ok());
  CHECK(v.status().code() == Code::kInvalidInput);
  CHECK(v.status().message() ==
        "event log: truncated at offset 2: need 4 bytes for event size, 1 left");
  // A failed read does not advance.
  CHECK(r.offset() == 2);
  CHECK(*r.U8("last") == 0x03);
}

TEST_CASE("Take returns a view and refuses lengths past the end") {
  const Bytes data = {1, 2, 3, 4};
  ByteReader r(data);
  auto b = r.Take(3, "blob");
  REQUIRE(b.ok());
  CHECK(b->size() == 3);
  CHECK((*b)[2] == 3);
  CHECK_FALSE(r.Take(2, "more").ok());
  CHECK_FALSE(r.Take(SIZE_MAX, "huge").ok());
  CHECK(r.remaining() == 1);
}

TEST_CASE("Seek refuses offsets past the end") {
  const Bytes data = {1, 2};
  ByteReader r(data);
  CHECK(r.Seek(2).ok());
  CHECK_FALSE(r.Seek(3).ok());
}

TEST_CASE("Fixed-offset loads and stores round-trip") {
  Bytes b(16, 0);
  StoreLe16(b, 0, 0xbeef);
  StoreLe32(b, 2, 0xdeadbeef);
  StoreLe64(b, 6, 0x0123456789abcdefull);
  CHECK(LoadLe16(b, 0) == 0xbeef);
  CHECK(LoadLe32(b, 2) == 0xdeadbeef);
  CHECK(LoadLe64(b, 6) == 0x0123456789abcdefull);
  CHECK(LoadBe16(b, 0) == 0xefbe);
}

TEST_CASE("IsAllZero and ConstantTimeEqual") {
  CHECK(IsAllZero(Bytes(8, 0)));
  CHECK_FALSE(IsAllZero(Bytes{0, 0, 1}));
  CHECK(IsAllZero(Bytes{}));
  CHECK(ConstantTimeEqual(Bytes{1, 2}, Bytes{1, 2}));
  CHECK_FALSE(ConstantTimeEqual(Bytes{1, 2}, Bytes{1, 3}));
  CHECK_FALSE(ConstantTimeEqual(Bytes{1, 2}, Bytes{1, 2, 3}));
}

}  // namespace
}  // namespace cvm
