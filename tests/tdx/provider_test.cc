#include "tdx/provider.h"

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <map>

#include "tdx/quote.h"
#include "tdx/report.h"
#include "tdx/sim.h"
#include "tdx/tdx_guest.h"
#include "tdx/tdx_guest_uapi.h"
#include "tests/testing/fake_tsm.h"

namespace cvm::tdx {
namespace {

constexpr char kRoot[] = "/fake/tsm/report";

const SimTdx& Sim() {
  static const SimTdx* sim = [] {
    auto s = SimTdx::Create(std::chrono::system_clock::now());
    REQUIRE(s.ok());
    return new SimTdx(std::move(*s));
  }();
  return *sim;
}

testing::FakeTsmFs::Generator SimGenerator() {
  return [](ByteSpan inblob, uint32_t) -> Result<testing::FakeTsmOutput> {
    SimQuoteOptions o;
    o.report_data = ToBytes(inblob);
    CVM_ASSIGN_OR_RETURN(Bytes quote, Sim().MakeQuote(o));
    quote.resize(8000, 0);  // padded, as some kernels return it
    return testing::FakeTsmOutput{quote, {}};
  };
}

TEST_CASE("The configfs-tsm provider returns a quote bound to the report data") {
  testing::FakeTsmFs fs(kRoot, "tdx_guest", SimGenerator());
  auto provider = NewQuoteProvider(fs, kRoot);
  REQUIRE(provider.ok());
  Bytes rd(64, 0x5a);
  auto quote = (*provider)->GetQuote(rd);
  INFO(quote.status().ToString());
  REQUIRE(quote.ok());
  auto q = ParseQuote(*quote);
  REQUIRE(q.ok());
  CHECK(q->body.report_data == rd);
  CHECK(fs.live_entries() == 0);
}

TEST_CASE("A configfs-tsm report from another provider is rejected") {
  testing::FakeTsmFs fs(kRoot, "sev_guest", SimGenerator());
  auto quote = NewTsmQuoteProvider(fs, kRoot)->GetQuote(Bytes(64, 0));
  REQUIRE_FALSE(quote.ok());
  CHECK(quote.status().code() == Code::kRejected);
}

TEST_CASE("A racing configfs-tsm writer makes the quote unavailable") {
  testing::FakeTsmFs fs(kRoot, "tdx_guest", SimGenerator());
  fs.before_read = [&](const std::string& entry, const std::string& attr) {
    if (attr == "outblob") fs.BumpGeneration(entry);
  };
  auto quote = NewTsmQuoteProvider(fs, kRoot)->GetQuote(Bytes(64, 0));
  REQUIRE_FALSE(quote.ok());
  CHECK(quote.status().code() == Code::kUnavailable);
}

TEST_CASE("Without configfs-tsm there is no quote provider") {
  testing::FakeTsmFs fs(kRoot, "tdx_guest", SimGenerator());
  auto provider = NewQuoteProvider(fs, "/elsewhere");
  REQUIRE_FALSE(provider.ok());
  CHECK(provider.status().code() == Code::kNotFound);
}

TEST_CASE("Report data that is not 64 bytes is refused before the kernel is asked") {
  testing::FakeTsmFs fs(kRoot, "tdx_guest", SimGenerator());
  auto quote = NewTsmQuoteProvider(fs, kRoot)->GetQuote(Bytes(32, 0));
  CHECK(quote.status().code() == Code::kInvalidInput);
  CHECK(fs.reports_generated() == 0);
}

// A fake /dev/tdx_guest and sysfs measurements directory.
class FakeSys final : public TdxGuestSys {
 public:
  std::map<std::string, bool> files;  // path -> exists
  int ioctl_errno = 0;
  unsigned long last_request = 0;
  std::map<std::string, Bytes> writes;
  int open_fds = 0;

  Result<int> Open(const std::string& path) override {
    if (!files.count(path)) return ErrnoStatus(ENOENT, "open " + path);
    ++open_fds;
    return 7;
  }
  Status Ioctl(int, unsigned long request, void* arg) override {
    last_request = request;
    if (ioctl_errno != 0) return ErrnoStatus(ioctl_errno, "ioctl");
    auto* req = static_cast<uapi::tdx_report_req*>(arg);
    std::memset(req->tdreport, 0, sizeof(req->tdreport));
    req->tdreport[0] = kReportTypeTdx;
    std::memcpy(req->tdreport + 128, req->reportdata, 64);  // REPORTDATA in REPORTMACSTRUCT
    return Status::Ok();
  }
  void Close(int) override { --open_fds; }
  bool Exists(const std::string& path) override { return files.count(path) == 1; }
  Status WriteAttr(const std::string& path, ByteSpan data) override {
    writes[path] = ToBytes(data);
    return Status::Ok();
  }
};

TEST_CASE("GET_REPORT0 passes the report data and returns the 1024-byte TDREPORT") {
  FakeSys sys;
  sys.files["/dev/tdx_guest"] = true;
  Bytes rd(64, 0x42);
  auto report = GetTdReport(sys, rd);
  REQUIRE(report.ok());
  CHECK(sys.last_request == 0xC4405401ul);
  CHECK(sys.open_fds == 0);
  auto parsed = ParseTdReport(*report);
  REQUIRE(parsed.ok());
  CHECK(parsed->report_data == rd);
}

TEST_CASE("A failing GET_REPORT0 reports the errno and closes the device") {
  FakeSys sys;
  sys.files["/dev/tdx_guest"] = true;
  sys.ioctl_errno = EIO;
  auto report = GetTdReport(sys, Bytes(64, 0));
  REQUIRE_FALSE(report.ok());
  CHECK(report.status().code() == Code::kIoError);
  CHECK(report.status().ToString().find("TDX_CMD_GET_REPORT0") != std::string::npos);
  CHECK(sys.open_fds == 0);
}

TEST_CASE("Without /dev/tdx_guest the TDREPORT is not found") {
  FakeSys sys;
  CHECK(GetTdReport(sys, Bytes(64, 0)).status().code() == Code::kNotFound);
}

TEST_CASE("An RTMR is extended by writing the digest to its sysfs attribute") {
  FakeSys sys;
  const std::string dir = "/sys/devices/virtual/misc/tdx_guest/measurements";
  sys.files[dir + "/rtmr2:sha384"] = true;
  Bytes digest(48, 0x33);
  REQUIRE(ExtendRtmr(sys, 2, digest).ok());
  CHECK(sys.writes[dir + "/rtmr2:sha384"] == digest);
}

TEST_CASE("RTMR extension is refused for a bad index or digest, and absent before Linux 6.16") {
  FakeSys sys;
  CHECK(ExtendRtmr(sys, 4, Bytes(48, 0)).code() == Code::kInvalidInput);
  CHECK(ExtendRtmr(sys, 3, Bytes(32, 0)).code() == Code::kInvalidInput);
  CHECK(ExtendRtmr(sys, 3, Bytes(48, 0)).code() == Code::kNotFound);
}

}  // namespace
}  // namespace cvm::tdx
