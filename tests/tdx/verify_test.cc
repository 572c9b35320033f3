#include "tdx/verify.h"

#include <catch2/catch.hpp>

#include "common/chain_cache.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "tdx/quote.h"
#include "tests/testing/testing.h"

namespace cvm::tdx {
namespace {

TimePoint At(const char* t) { return *ParseTime(t); }

Result<VerifiedQuote> VerifyBytes(ByteSpan data, TimePoint at) {
  CVM_ASSIGN_OR_RETURN(Quote q, ParseQuote(data));
  QuoteVerifyOptions o;
  o.at = at;
  return VerifyQuote(q, o);
}

TEST_CASE("Every real quote verifies to the built-in Intel SGX Root CA") {
  for (const char* f : {"vectors/tdx/v4-dcap/quote.bin", "vectors/tdx/v5/quote.bin",
                        "vectors/tdx/gcp-ccel/quote.bin"}) {
    auto v = VerifyBytes(testing::ReadData(f), At("2026-06-01T00:00:00Z"));
    INFO(f << ": " << v.status().ToString());
    REQUIRE(v.ok());
    CHECK(v->pck.CommonName() == "Intel SGX PCK Certificate");
    CHECK(v->pck_extensions.fmspc.size() == 6);
  }
}

TEST_CASE("A quote struct with a short signature or key is refused as invalid input") {
  auto parsed = ParseQuote(testing::ReadData("vectors/tdx/v4-dcap/quote.bin"));
  REQUIRE(parsed.ok());
  QuoteVerifyOptions o;
  o.at = At("2025-06-20T00:00:00Z");
  {
    Quote q = *parsed;
    q.signature.resize(10);
    Status s = VerifyQuote(q, o).status();
    CHECK(s.code() == Code::kInvalidInput);
    CHECK(s.message().find("quote signature is 10 bytes") != std::string::npos);
  }
  {
    Quote q = *parsed;
    q.certification.qe_report_signature.clear();
    Status s = VerifyQuote(q, o).status();
    CHECK(s.code() == Code::kInvalidInput);
    CHECK(s.message().find("qe report signature is 0 bytes") != std::string::npos);
  }
  {
    Quote q = *parsed;
    q.attestation_key.resize(63);
    Status s = VerifyQuote(q, o).status();
    CHECK(s.code() == Code::kInvalidInput);
    CHECK(s.message().find("attestation key is 63 bytes") != std::string::npos);
  }
}

TEST_CASE("The v4 quote's PCK certificate names FMSPC B0C06F000000") {
  auto v =
      VerifyBytes(testing::ReadData("vectors/tdx/v4-dcap/quote.bin"), At("2025-06-20T00:00:00Z"));
  REQUIRE(v.ok());
  CHECK(HexEncode(v->pck_extensions.fmspc) == "b0c06f000000");
  CHECK(HexEncode(v->pck_extensions.pce_id) == "0000");
}

// Flips one bit of the real v4 quote at `offset` and returns the verification error.
Status FlipAndVerify(size_t offset) {
  Bytes data = testing::ReadData("vectors/tdx/v4-dcap/quote.bin");
  data[offset] ^= 0x04;
  return VerifyBytes(data, At("2025-06-20T00:00:00Z")).status();
}

// Offsets in the v4 quote (formats.md C.2): header 0, body 48, signature 636, attestation key
// 700, QE report 770, QE report signature 1154, QE auth data 1220, PCK chain PEM from 1258.
TEST_CASE("A bit flip in the quote header is rejected by the quote signature") {
  Status s = FlipAndVerify(30);  // user data
  CHECK(s.code() == Code::kRejected);
  CHECK(s.message().find("quote signature") != std::string::npos);
}

TEST_CASE("A bit flip in the quote body is rejected by the quote signature") {
  Status s = FlipAndVerify(48 + 136 + 7);  // MRTD
  CHECK(s.code() == Code::kRejected);
  CHECK(s.message().find("quote signature") != std::string::npos);
}

TEST_CASE("A bit flip in the quote signature is rejected") {
  Status s = FlipAndVerify(636 + 40);
  CHECK(s.code() == Code::kRejected);
  CHECK(s.message().find("quote signature") != std::string::npos);
}

TEST_CASE("A bit flip in the attestation key breaks the QE binding") {
  Status s = FlipAndVerify(700 + 10);
  CHECK(s.code() == Code::kRejected);
  CHECK(s.message().find("qe report data") != std::string::npos);
}

TEST_CASE("A bit flip in the QE report is rejected by the QE report signature") {
  Status s = FlipAndVerify(770 + 200);
  CHECK(s.code() == Code::kRejected);
  CHECK(s.message().find("qe report signature") != std::string::npos);
}

TEST_CASE("A bit flip in the QE report signature is rejected") {
  Status s = FlipAndVerify(1154 + 50);
  CHECK(s.code() == Code::kRejected);
  CHECK(s.message().find("qe report signature") != std::string::npos);
}

TEST_CASE("A bit flip in the QE auth data breaks the QE binding") {
  Status s = FlipAndVerify(1220 + 3);
  CHECK(s.code() == Code::kRejected);
  CHECK(s.message().find("qe auth data") != std::string::npos);
}

TEST_CASE("A flipped character in the PCK certificate chain is rejected or refused") {
  Bytes data = testing::ReadData("vectors/tdx/v4-dcap/quote.bin");
  size_t pem = 1258;
  REQUIRE(AsChars(ByteSpan(data).subspan(pem, 27)) == "-----BEGIN CERTIFICATE-----");
  // A character inside the leaf's signed body, then one inside the intermediate.
  for (size_t off : {pem + 400, pem + 1300}) {
    Bytes copy = data;
    copy[off] = copy[off] == 'A' ? 'B' : 'A';
    Status s = VerifyBytes(copy, At("2025-06-20T00:00:00Z")).status();
    INFO(off << ": " << s.ToString());
    CHECK((s.code() == Code::kRejected || s.code() == Code::kInvalidInput));
    CHECK(s.ToString().find("pck certificate") != std::string::npos);
  }
}

TEST_CASE("With a chain cache every signature and binding is still checked on every call") {
  Bytes data = testing::ReadData("vectors/tdx/v4-dcap/quote.bin");
  ChainCache cache;
  QuoteVerifyOptions o;
  o.at = At("2025-06-20T00:00:00Z");
  o.chain_cache = &cache;
  auto good = ParseQuote(data);
  REQUIRE(good.ok());
  auto first = VerifyQuote(*good, o);
  REQUIRE(first.ok());
  // The same platform again: chain, attestation key and PCK extensions come from the cache.
  auto second = VerifyQuote(*good, o);
  REQUIRE(second.ok());
  CHECK(cache.hits() == 1);
  CHECK(cache.parse_hits() >= 3);
  CHECK(second->pck_extensions.fmspc == first->pck_extensions.fmspc);
  CHECK(second->pck_extensions.tcb_comps == first->pck_extensions.tcb_comps);
  // Quote signature, QE report signature, QE binding: each flip is rejected as without a cache.
  for (auto [offset, what] : {std::pair{size_t{48 + 136 + 7}, "quote signature"},
                              std::pair{size_t{636 + 40}, "quote signature"},
                              std::pair{size_t{770 + 200}, "qe report signature"},
                              std::pair{size_t{1220 + 3}, "qe auth data"}}) {
    Bytes copy = data;
    copy[offset] ^= 0x04;
    auto q = ParseQuote(copy);
    REQUIRE(q.ok());
    Status s = VerifyQuote(*q, o).status();
    INFO(offset << ": " << s.ToString());
    CHECK(s.code() == Code::kRejected);
    CHECK(s.message().find(what) != std::string::npos);
  }
  // Once the PCK certificate has expired, the cached chain does not apply.
  o.at = At("2040-01-01T00:00:00Z");
  CHECK(VerifyQuote(*good, o).status().code() == Code::kRejected);
}

TEST_CASE("A quote verified after its PCK certificate expired is rejected") {
  Status s =
      VerifyBytes(testing::ReadData("vectors/tdx/v4-dcap/quote.bin"), At("2040-01-01T00:00:00Z"))
          .status();
  CHECK(s.code() == Code::kRejected);
  CHECK(s.ToString().find("expired") != std::string::npos);
}

TEST_CASE("A quote verified against another root is rejected") {
  auto q = ParseQuote(testing::ReadData("vectors/tdx/v4-dcap/quote.bin"));
  REQUIRE(q.ok());
  auto certs = ParseCertificates(q->certification.pck_cert_data);
  REQUIRE(certs.ok());
  QuoteVerifyOptions o;
  o.at = At("2025-06-20T00:00:00Z");
  o.roots = {(*certs)[1]};  // the intermediate is not a root
  CHECK(VerifyQuote(*q, o).status().code() == Code::kRejected);
}

}  // namespace
}  // namespace cvm::tdx
