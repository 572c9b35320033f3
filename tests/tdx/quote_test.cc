#include "tdx/quote.h"

#include <catch2/catch.hpp>

#include "common/encoding.h"
#include "tests/testing/testing.h"

namespace cvm::tdx {
namespace {

TEST_CASE("The real v4 quote parses with a TD 1.0 body and a PCK chain") {
  Bytes data = testing::ReadData("vectors/tdx/v4-dcap/quote.bin");
  auto q = ParseQuote(data);
  REQUIRE(q.ok());
  CHECK(q->header.version == 4);
  CHECK(q->body_type == kBodyTypeTd10);
  CHECK(HexEncode(q->header.qe_vendor_id) == "939a7233f79c4ca9940a0db3957f0607");
  CHECK(q->signed_data.size() == kQuoteHeaderSize + kTd10BodySize);
  CHECK(q->certification.pck_cert_data_type == kCertDataPckChain);
  CHECK(q->certification.qe_auth_data.size() == 32);
  CHECK_FALSE(q->body.tee_tcb_svn2.has_value());
  CHECK(q->size <= data.size());
}

TEST_CASE("The real v5 quote parses with a TD 1.5 body") {
  auto q = ParseQuote(testing::ReadData("vectors/tdx/v5/quote.bin"));
  REQUIRE(q.ok());
  CHECK(q->header.version == 5);
  CHECK(q->body_type == kBodyTypeTd15);
  CHECK(q->signed_data.size() == kQuoteV5BodyOffset + kTd15BodySize);
  REQUIRE(q->body.tee_tcb_svn2.has_value());
  CHECK(q->body.mrservicetd->size() == 48);
}

TEST_CASE("A zero-padded 8000-byte quote parses by its inner lengths") {
  Bytes data = testing::ReadData("vectors/tdx/gcp-ccel/quote.bin");
  REQUIRE(data.size() == 8000);
  auto q = ParseQuote(data);
  REQUIRE(q.ok());
  CHECK(q->size < data.size());
}

TEST_CASE("Every truncation of a quote is refused as invalid input") {
  Bytes data = testing::ReadData("vectors/tdx/v4-dcap/quote.bin");
  size_t used = ParseQuote(data)->size;
  for (size_t n : {size_t{0}, size_t{10}, size_t{47}, size_t{100}, size_t{631}, size_t{700},
                   size_t{1200}, used - 1}) {
    auto q = ParseQuote(ByteSpan(data).first(n));
    INFO(n);
    REQUIRE_FALSE(q.ok());
    CHECK(q.status().code() == Code::kInvalidInput);
    CHECK(q.status().ToString().find("truncated") != std::string::npos);
  }
}

TEST_CASE("A quote of another version is unsupported") {
  Bytes data = testing::ReadData("vectors/tdx/v4-dcap/quote.bin");
  data[0] = 3;
  auto q = ParseQuote(data);
  REQUIRE_FALSE(q.ok());
  CHECK(q.status().code() == Code::kUnsupported);
  CHECK(q.status().message().find("version 3") != std::string::npos);
}

TEST_CASE("A quote from another QE vendor is refused as unsupported") {
  Bytes data = testing::ReadData("vectors/tdx/v4-dcap/quote.bin");
  data[12] ^= 0xff;  // the first byte of the QE vendor ID
  auto q = ParseQuote(data);
  CHECK(q.status().code() == Code::kUnsupported);
  CHECK(q.status().message().find("qe vendor id 6c9a7233") != std::string::npos);
}

TEST_CASE("A v5 body size that does not match its type is refused") {
  Bytes data = testing::ReadData("vectors/tdx/v5/quote.bin");
  StoreLe32(data, 50, 584);
  auto q = ParseQuote(data);
  REQUIRE_FALSE(q.ok());
  CHECK(q.status().message().find("body size 584") != std::string::npos);
}

TEST_CASE("Certification data of another type is unsupported") {
  Bytes data = testing::ReadData("vectors/tdx/v4-dcap/quote.bin");
  StoreLe16(data, 636 + 128, 5);
  auto q = ParseQuote(data);
  REQUIRE_FALSE(q.ok());
  CHECK(q.status().code() == Code::kUnsupported);
}

TEST_CASE("A body encodes back to the bytes it was parsed from") {
  Bytes data = testing::ReadData("vectors/tdx/v5/quote.bin");
  auto q = ParseQuote(data);
  REQUIRE(q.ok());
  Bytes body = EncodeBody(q->body);
  CHECK(body == Bytes(data.begin() + kQuoteV5BodyOffset,
                      data.begin() + kQuoteV5BodyOffset + kTd15BodySize));
}

}  // namespace
}  // namespace cvm::tdx
