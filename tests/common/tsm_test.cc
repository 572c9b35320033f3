#include "common/tsm.h"

#include <catch2/catch.hpp>

#include "tests/testing/fake_tsm.h"

namespace cvm {
namespace {

constexpr char kRoot[] = "/sys/kernel/config/tsm/report";

testing::FakeTsmFs::Generator Echo() {
  return [](ByteSpan inblob, uint32_t privlevel) -> Result<testing::FakeTsmOutput> {
    Bytes out(inblob.begin(), inblob.end());
    out.push_back(static_cast<uint8_t>(privlevel));
    return testing::FakeTsmOutput{out, Bytes{0xaa, 0xbb}};
  };
}

TsmReportRequest Request(uint8_t fill) {
  TsmReportRequest r;
  r.inblob.fill(fill);
  return r;
}

TEST_CASE("A report is produced from the inblob and the entry is removed afterwards") {
  testing::FakeTsmFs fs(kRoot, "sev_guest", Echo());
  TsmReportClient client(fs, kRoot);
  REQUIRE(client.Available());
  TsmReportRequest req = Request(7);
  req.privlevel = 2;
  req.read_auxblob = true;
  req.expected_provider = "sev_guest";
  auto report = client.GetReport(req);
  REQUIRE(report.ok());
  CHECK(report->provider == "sev_guest");
  REQUIRE(report->outblob.size() == 65);
  CHECK(report->outblob[0] == 7);
  CHECK(report->outblob[64] == 2);
  CHECK(report->auxblob == Bytes{0xaa, 0xbb});
  CHECK(report->generation == 2);
  CHECK(fs.live_entries() == 0);
}

TEST_CASE("TDX has no auxblob; asking for it is not an error") {
  testing::FakeTsmFs fs(kRoot, "tdx_guest", Echo());
  TsmReportRequest req = Request(1);
  req.read_auxblob = true;
  req.expected_provider = "tdx_guest";
  auto report = TsmReportClient(fs, kRoot).GetReport(req);
  REQUIRE(report.ok());
  CHECK(report->auxblob.empty());
}

TEST_CASE("A provider other than the expected one is rejected") {
  testing::FakeTsmFs fs(kRoot, "tdx_guest", Echo());
  TsmReportRequest req = Request(1);
  req.expected_provider = "sev_guest";
  auto report = TsmReportClient(fs, kRoot).GetReport(req);
  CHECK(report.status().code() == Code::kRejected);
  CHECK(report.status().message().find("tdx_guest") != std::string::npos);
  CHECK(fs.live_entries() == 0);
}

TEST_CASE("No provider registered is NotFound and says so") {
  testing::FakeTsmFs fs(kRoot, "", Echo());
  auto report = TsmReportClient(fs, kRoot).GetReport(Request(1));
  CHECK(report.status().code() == Code::kNotFound);
  CHECK(report.status().message().find("no attestation provider") != std::string::npos);
}

TEST_CASE("No configfs-tsm at all is NotFound") {
  testing::FakeTsmFs fs(kRoot, "sev_guest", Echo());
  TsmReportClient client(fs, "/nonexistent/tsm/report");
  CHECK_FALSE(client.Available());
  CHECK(client.GetReport(Request(1)).status().code() == Code::kNotFound);
}

TEST_CASE("A concurrent writer is detected through the generation counter, and retried") {
  testing::FakeTsmFs fs(kRoot, "sev_guest", Echo());
  int races = 0;
  fs.before_read = [&](const std::string& entry, const std::string& attr) {
    if (attr == "outblob" && races < 1) {
      ++races;
      fs.BumpGeneration(entry);
    }
  };
  auto report = TsmReportClient(fs, kRoot).GetReport(Request(3));
  REQUIRE(report.ok());  // the second attempt is clean
  CHECK(races == 1);
  CHECK(fs.live_entries() == 0);

  fs.before_read = [&](const std::string& entry, const std::string& attr) {
    if (attr == "outblob") fs.BumpGeneration(entry);
  };
  auto raced = TsmReportClient(fs, kRoot).GetReport(Request(3), 2);
  CHECK(raced.status().code() == Code::kUnavailable);
  CHECK(raced.status().message().find("another writer") != std::string::npos);
  CHECK(fs.live_entries() == 0);
}

TEST_CASE("A privlevel below the floor is refused by the kernel and reported") {
  testing::FakeTsmFs fs(kRoot, "sev_guest", Echo());
  fs.privlevel_floor = 1;
  TsmReportRequest req = Request(1);
  req.privlevel = 0;
  auto report = TsmReportClient(fs, kRoot).GetReport(req);
  CHECK_FALSE(report.ok());
  CHECK(report.status().message().find("privlevel") != std::string::npos);
  CHECK(fs.live_entries() == 0);
}

TEST_CASE("A firmware failure while generating is passed through and the entry removed") {
  testing::FakeTsmFs fs(kRoot, "sev_guest",
                        [](ByteSpan, uint32_t) -> Result<testing::FakeTsmOutput> {
                          return ErrnoStatus(EIO, "read outblob");
                        });
  auto report = TsmReportClient(fs, kRoot).GetReport(Request(1));
  CHECK(report.status().code() == Code::kIoError);
  CHECK(fs.live_entries() == 0);
}

}  // namespace
}  // namespace cvm
