// cvmctl report get through the provider seams: a fake configfs-tsm (sev_guest or tdx_guest) and
// a /dev/sev-guest that is absent.
#include "cli/report_get.h"

#include <catch2/catch.hpp>
#include <cerrno>

#include "common/args.h"
#include "common/file_util.h"
#include "tests/testing/fake_tsm.h"
#include "tests/testing/testing.h"

namespace cvm::cli {
namespace {

constexpr char kRoot[] = "/sys/kernel/config/tsm/report";

// A machine without /dev/sev-guest.
class NoSevGuest final : public snp::SevGuestSys {
 public:
  Result<int> Open(const std::string& path) override { return ErrnoStatus(ENOENT, path); }
  int Ioctl(int, unsigned long, void*) override { return ENOTTY; }  // NOLINT(google-runtime-int)
  void Close(int) override {}
  TimePoint Now() override { return TimePoint{}; }
  void Sleep(std::chrono::milliseconds) override {}
};

// An SNP "report" echoing the inblob at REPORT_DATA (0x50), and a host certificate table.
testing::FakeTsmFs SnpTsm() {
  return testing::FakeTsmFs(kRoot, "sev_guest", [](ByteSpan inblob, uint32_t) {
    testing::FakeTsmOutput out;
    out.outblob.assign(0x4A0, 0);
    std::copy(inblob.begin(), inblob.end(), out.outblob.begin() + 0x50);
    out.auxblob.assign(24, 0);  // an empty certificate table: one all-zero terminator entry
    return Result<testing::FakeTsmOutput>(out);
  });
}

TEST_CASE("GetLiveEvidence gets an SNP report and the host's table through configfs-tsm") {
  auto fs = SnpTsm();
  NoSevGuest sys;
  auto e = GetLiveEvidence(fs, sys, Bytes{0xc0, 0xff, 0xee}, kRoot);
  REQUIRE(e.ok());
  CHECK(e->tee == "snp");
  CHECK(e->provider == "configfs-tsm");
  REQUIRE(e->evidence.size() == 0x4A0);
  CHECK(e->evidence[0x50] == 0xc0);
  CHECK(e->evidence[0x52] == 0xee);
  CHECK(e->cert_table.size() == 24);
  CHECK(fs.live_entries() == 0);
}

TEST_CASE("GetLiveEvidence falls through to TDX when configfs-tsm serves tdx_guest") {
  testing::FakeTsmFs fs(kRoot, "tdx_guest", [](ByteSpan inblob, uint32_t) {
    testing::FakeTsmOutput out;
    out.outblob = Bytes{'q', 'u', 'o', 't', 'e'};
    out.outblob.insert(out.outblob.end(), inblob.begin(), inblob.end());
    return Result<testing::FakeTsmOutput>(out);
  });
  NoSevGuest sys;
  auto e = GetLiveEvidence(fs, sys, Bytes{1, 2}, kRoot);
  REQUIRE(e.ok());
  CHECK(e->tee == "tdx");
  CHECK(e->evidence.size() == 5 + 64);
  CHECK(e->cert_table.empty());
}

TEST_CASE("GetLiveEvidence on a machine without a TEE is unavailable and says so") {
  testing::FakeTsmFs fs("/nonexistent/tsm", "", nullptr);
  NoSevGuest sys;
  auto e = GetLiveEvidence(fs, sys, Bytes{1}, "/nonexistent/tsm/report");
  CHECK(e.status().code() == Code::kUnavailable);
  CHECK(e.status().message().find("no TEE guest interface") != std::string::npos);
}

TEST_CASE("cvmctl report get writes the report and the certificate table") {
  auto fs = SnpTsm();
  NoSevGuest sys;
  testing::TempDir dir;
  std::vector<std::string> args = {"--report-data",   "c0ffee",  "-o",
                                   dir.File("r.bin"), "--certs", dir.File("certs.bin")};
  CHECK(ReportGet(args, fs, sys, kRoot) == kExitOk);
  auto report = ReadFile(dir.File("r.bin"));
  REQUIRE(report.ok());
  CHECK(report->size() == 0x4A0);
  CHECK(ReadFile(dir.File("certs.bin")).ok());
  std::vector<std::string> too_long = {"--report-data", std::string(130, '0')};
  CHECK(ReportGet(too_long, fs, sys, kRoot) == kExitUsage);
}

TEST_CASE("cvmctl report get outside a guest exits 3 with a clear message") {
  auto r =
      testing::Run({testing::BinaryDir() + "/cli/cvmctl", "report", "get", "--report-data", "00"});
  if (r.exit_code == 0) return;  // this machine is a TEE guest after all
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("no TEE guest interface") != std::string::npos);
}

}  // namespace
}  // namespace cvm::cli
