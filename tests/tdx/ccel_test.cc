#include "tdx/ccel.h"

#include <catch2/catch.hpp>

#include "common/file_util.h"
#include "tdx/quote.h"
#include "tests/testing/testing.h"

namespace cvm::tdx {
namespace {

TEST_CASE("The GCP CCEL table names a TDX log area of the log's size") {
  auto t = ParseCcelTable(testing::ReadData("vectors/tdx/gcp-ccel/ccel_table.bin"));
  INFO(t.status().ToString());
  REQUIRE(t.ok());
  CHECK(t->cc_type == kCcTypeTdx);
  CHECK(t->log_area_length == testing::ReadData("vectors/tdx/gcp-ccel/ccel_data.bin").size());
}

TEST_CASE("The GCP CCEL replays to RTMR0-2 of its quote, with RTMR3 zero") {
  auto replay = ReplayCcel(testing::ReadData("vectors/tdx/gcp-ccel/ccel_data.bin"));
  INFO(replay.status().ToString());
  REQUIRE(replay.ok());
  CHECK(replay->events > 0);
  auto q = ParseQuote(testing::ReadData("vectors/tdx/gcp-ccel/quote.bin"));
  REQUIRE(q.ok());
  CHECK(replay->rtmr[0] == q->body.rtmr[0]);
  CHECK(replay->rtmr[1] == q->body.rtmr[1]);
  CHECK(replay->rtmr[2] == q->body.rtmr[2]);
  CHECK(replay->rtmr[3] == Bytes(48, 0));
  CHECK(CompareWithQuote(*replay, q->body).ok());
}

TEST_CASE("A CCEL compared with another TD's quote is rejected naming the RTMRs") {
  auto replay = ReplayCcel(testing::ReadData("vectors/tdx/gcp-ccel/ccel_data.bin"));
  REQUIRE(replay.ok());
  auto q = ParseQuote(testing::ReadData("vectors/tdx/v4-dcap/quote.bin"));
  REQUIRE(q.ok());
  Status s = CompareWithQuote(*replay, q->body);
  CHECK(s.code() == Code::kRejected);
  CHECK(s.message().find("RTMR0") != std::string::npos);
}

TEST_CASE("A CCEL table with a bad checksum or signature is refused") {
  Bytes t = testing::ReadData("vectors/tdx/gcp-ccel/ccel_table.bin");
  Bytes bad_sum = t;
  bad_sum[20] ^= 1;
  CHECK(ParseCcelTable(bad_sum).status().message().find("checksum") != std::string::npos);
  Bytes bad_sig = t;
  bad_sig[0] = 'X';
  CHECK(ParseCcelTable(bad_sig).status().code() == Code::kInvalidInput);
  CHECK_FALSE(ParseCcelTable(ByteSpan(t).first(40)).ok());
}

TEST_CASE("A truncated CCEL log is refused as invalid input") {
  Bytes log = testing::ReadData("vectors/tdx/gcp-ccel/ccel_data.bin");
  auto r = ReplayCcel(ByteSpan(log).first(100));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kInvalidInput);
}

TEST_CASE("The CCEL files are read from an ACPI tables directory") {
  testing::TempDir dir;
  REQUIRE(MakeDirs(dir.File("data")).ok());
  REQUIRE(
      WriteFileAtomic(dir.File("CCEL"), testing::ReadData("vectors/tdx/gcp-ccel/ccel_table.bin"))
          .ok());
  REQUIRE(WriteFileAtomic(dir.File("data/CCEL"),
                          testing::ReadData("vectors/tdx/gcp-ccel/ccel_data.bin"))
              .ok());
  auto f = ReadCcel(dir.path());
  REQUIRE(f.ok());
  CHECK(f->table.size() == kCcelTableSize);
  CHECK(ReadCcel(dir.File("missing")).status().code() == Code::kNotFound);
}

}  // namespace
}  // namespace cvm::tdx
