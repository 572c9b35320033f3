// Both kernel paths through their system-call seams: a fake /dev/sev-guest that checks the exact
// structs and command numbers, and the in-memory configfs-tsm tree.
#include "snp/provider.h"

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <functional>

#include "snp/report.h"
#include "snp/sev_guest_uapi.h"
#include "tests/snp/fixtures.h"
#include "tests/testing/fake_tsm.h"

namespace cvm::snp {
namespace {

// One kernel answer: errno, exitinfo2, and optionally a new certs_len written back.
struct Answer {
  int err = 0;
  uint64_t exitinfo2 = 0;
  uint32_t needed_certs_len = 0;
  uint32_t fw_status = 0;
};

class FakeSevGuest final : public SevGuestSys {
 public:
  std::vector<Answer> answers;  // consumed in order; the last one repeats
  Bytes report = Bytes(kReportSize, 0x5a);
  Bytes cert_table;
  std::vector<unsigned long> commands;  // NOLINT(google-runtime-int)
  std::vector<uint32_t> certs_lens;
  std::vector<std::chrono::milliseconds> sleeps;
  std::array<uint8_t, 64> seen_user_data{};
  uint32_t seen_vmpl = 99;
  bool device_present = true;
  int open_fds = 0;
  TimePoint now = TimePoint{} + std::chrono::hours(1000);

  Result<int> Open(const std::string& path) override {
    if (!device_present) return ErrnoStatus(ENOENT, path);
    ++open_fds;
    return 7;
  }
  void Close(int fd) override {
    REQUIRE(fd == 7);
    --open_fds;
  }
  TimePoint Now() override { return now; }
  void Sleep(std::chrono::milliseconds d) override {
    sleeps.push_back(d);
    now += d;
  }
  int Ioctl(int fd, unsigned long request, void* arg) override {  // NOLINT(google-runtime-int)
    REQUIRE(fd == 7);
    commands.push_back(request);
    REQUIRE((request == 0xC0205300 || request == 0xC0205302));
    auto* guest = static_cast<uapi::SnpGuestRequestIoctl*>(arg);
    REQUIRE(guest->msg_version == 1);
    auto* resp = reinterpret_cast<uapi::SnpReportResp*>(guest->resp_data);
    uapi::SnpReportReq* req = reinterpret_cast<uapi::SnpReportReq*>(guest->req_data);
    std::memcpy(seen_user_data.data(), req->user_data, 64);
    seen_vmpl = req->vmpl;
    REQUIRE(IsAllZero(ByteSpan(req->rsvd, sizeof(req->rsvd))));
    Answer a = answers.empty() ? Answer{} : answers.front();
    if (answers.size() > 1) answers.erase(answers.begin());
    uapi::SnpExtReportReq* ext = nullptr;
    if (request == 0xC0205302) {
      ext = reinterpret_cast<uapi::SnpExtReportReq*>(guest->req_data);
      certs_lens.push_back(ext->certs_len);
      REQUIRE(ext->certs_len % 4096 == 0);
      if (a.needed_certs_len) ext->certs_len = a.needed_certs_len;
    }
    guest->exitinfo2 = a.exitinfo2;
    if (a.err != 0) return a.err;
    Bytes out(4000, 0);
    StoreLe32(out, 0, a.fw_status);
    StoreLe32(out, 4, static_cast<uint32_t>(report.size()));
    std::copy(report.begin(), report.end(), out.begin() + 0x20);
    std::memcpy(resp->data, out.data(), out.size());
    if (ext && !cert_table.empty()) {
      REQUIRE(ext->certs_len >= cert_table.size());
      std::memcpy(reinterpret_cast<void*>(ext->certs_address), cert_table.data(),
                  cert_table.size());
    }
    return 0;
  }
};

std::array<uint8_t, 64> Nonce() {
  std::array<uint8_t, 64> n{};
  for (size_t i = 0; i < n.size(); ++i) n[i] = static_cast<uint8_t>(0xc0 + i);
  return n;
}

Bytes SampleTable() {
  return SerializeCertTable({{CertKindGuid(CertKind::kVcek), CertKind::kVcek, Bytes(100, 1)},
                             {CertKindGuid(CertKind::kAsk), CertKind::kAsk, Bytes(50, 2)}});
}

TEST_CASE("SNP_GET_EXT_REPORT passes the nonce and VMPL and returns report and host certs") {
  FakeSevGuest sys;
  sys.cert_table = SampleTable();
  auto p = NewSevGuestProvider(sys);
  auto ev = p->GetReport(Nonce(), 2);
  REQUIRE(ev.ok());
  CHECK(p->Name() == "sev-guest ioctl");
  CHECK(sys.commands == std::vector<unsigned long>{0xC0205302});  // NOLINT(google-runtime-int)
  CHECK(sys.seen_user_data == Nonce());
  CHECK(sys.seen_vmpl == 2);
  CHECK(ev->report == sys.report);
  REQUIRE(ev->certs.size() == 2);
  CHECK(ev->certs[0].kind == CertKind::kVcek);
  CHECK(sys.open_fds == 0);
}

TEST_CASE("A too-small certificate buffer is retried with the size the kernel asks for") {
  FakeSevGuest sys;
  sys.cert_table = SampleTable();
  sys.answers = {{EIO, uapi::kVmmErrInvalidLen, 8 * 4096, 0}, {}};
  auto ev = NewSevGuestProvider(sys)->GetReport(Nonce(), 0);
  REQUIRE(ev.ok());
  CHECK(sys.certs_lens == std::vector<uint32_t>{4 * 4096, 8 * 4096});
}

TEST_CASE("A certificate size over the limit is refused, not allocated") {
  FakeSevGuest sys;
  sys.answers = {{EIO, uapi::kVmmErrInvalidLen, 1u << 30, 0}};
  auto ev = NewSevGuestProvider(sys)->GetReport(Nonce(), 0);
  CHECK(ev.status().code() == Code::kInvalidInput);
  CHECK(ev.status().message().find("limit") != std::string::npos);
}

TEST_CASE("Plain SNP_GET_REPORT is used when host certificates are not wanted") {
  FakeSevGuest sys;
  SevGuestOptions o;
  o.extended = false;
  auto ev = NewSevGuestProvider(sys, o)->GetReport(Nonce(), 0);
  REQUIRE(ev.ok());
  CHECK(sys.commands == std::vector<unsigned long>{0xC0205300});  // NOLINT(google-runtime-int)
  CHECK(ev->certs.empty());
}

TEST_CASE("A firmware error is decoded by name") {
  FakeSevGuest sys;
  sys.answers = {{EIO, 0x16, 0, 0}};
  auto ev = NewSevGuestProvider(sys)->GetReport(Nonce(), 0);
  CHECK(!ev.ok());
  CHECK(ev.status().message().find("INVALID_PARAM") != std::string::npos);
}

TEST_CASE("A non-zero status in MSG_REPORT_RSP is an error naming it") {
  FakeSevGuest sys;
  sys.answers = {{0, 0, 0, 0x16}};
  auto ev = NewSevGuestProvider(sys)->GetReport(Nonce(), 0);
  CHECK(ev.status().message().find("firmware status 0x16 INVALID_PARAM") != std::string::npos);
}

TEST_CASE("A busy host is retried after the delay and then answers") {
  FakeSevGuest sys;
  sys.answers = {{EAGAIN, uint64_t{2} << 32, 0, 0}, {EAGAIN, uint64_t{2} << 32, 0, 0}, {}};
  auto ev = NewSevGuestProvider(sys)->GetReport(Nonce(), 0);
  REQUIRE(ev.ok());
  CHECK(sys.sleeps.size() == 2);
  CHECK(sys.commands.size() == 3);
}

TEST_CASE("A host that stays busy gives up after the retry budget as unavailable") {
  FakeSevGuest sys;
  sys.answers = {{EAGAIN, uint64_t{2} << 32, 0, 0}};
  auto ev = NewSevGuestProvider(sys)->GetReport(Nonce(), 0);
  CHECK(ev.status().code() == Code::kUnavailable);
  CHECK(sys.sleeps.size() == 30);  // 60 s budget, 2 s apart
}

TEST_CASE("A disabled VMPCK (ENOTTY) is unavailable with the reason") {
  FakeSevGuest sys;
  sys.answers = {{ENOTTY, 0xff, 0, 0}};
  auto ev = NewSevGuestProvider(sys)->GetReport(Nonce(), 0);
  CHECK(ev.status().code() == Code::kUnavailable);
  CHECK(ev.status().message().find("VMPCK") != std::string::npos);
}

TEST_CASE("Back-to-back requests are spaced by the minimum interval") {
  FakeSevGuest sys;
  auto p = NewSevGuestProvider(sys);
  REQUIRE(p->GetReport(Nonce(), 0).ok());
  REQUIRE(p->GetReport(Nonce(), 0).ok());
  CHECK(sys.sleeps == std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(2000)});
}

TEST_CASE("A VMPL above 3 is refused before any system call") {
  FakeSevGuest sys;
  CHECK(NewSevGuestProvider(sys)->GetReport(Nonce(), 4).status().code() == Code::kInvalidInput);
  CHECK(sys.commands.empty());
}

TEST_CASE("A malformed host certificate table is an error naming the table") {
  FakeSevGuest sys;
  sys.cert_table = SampleTable();
  StoreLe32(sys.cert_table, 20, 100000);
  auto ev = NewSevGuestProvider(sys)->GetReport(Nonce(), 0);
  CHECK(ev.status().ToString().find("host certificates") != std::string::npos);
}

cvm::testing::FakeTsmOutput SimOutput(ByteSpan inblob) {
  SimReportRequest q;
  std::copy(inblob.begin(), inblob.end(), q.report_data.begin());
  auto report = testing::SimGenoa().MakeReport(q);
  return {*report, SampleTable()};
}

TEST_CASE("configfs-tsm returns the report for our nonce and the auxblob certificates") {
  cvm::testing::FakeTsmFs fs("/cfg/tsm/report", "sev_guest", [](ByteSpan in, uint32_t level) {
    CHECK(level == 1);
    return Result<cvm::testing::FakeTsmOutput>(SimOutput(in));
  });
  auto p = NewTsmProvider(fs, "/cfg/tsm/report");
  auto ev = p->GetReport(Nonce(), 1);
  REQUIRE(ev.ok());
  CHECK(p->Name() == "configfs-tsm");
  auto r = ParseReport(ev->report);
  REQUIRE(r.ok());
  CHECK(r->report_data == Nonce());
  CHECK(ev->certs.size() == 2);
  CHECK(fs.live_entries() == 0);
}

TEST_CASE("configfs-tsm from another provider is rejected") {
  cvm::testing::FakeTsmFs fs("/cfg/tsm/report", "tdx_guest", [](ByteSpan, uint32_t) {
    return Result<cvm::testing::FakeTsmOutput>(cvm::testing::FakeTsmOutput{Bytes(5000, 1), {}});
  });
  auto ev = NewTsmProvider(fs, "/cfg/tsm/report")->GetReport(Nonce(), 0);
  CHECK(!ev.ok());
  CHECK(fs.live_entries() == 0);
}

TEST_CASE("configfs-tsm output that is not a report is an error") {
  cvm::testing::FakeTsmFs fs("/cfg/tsm/report", "sev_guest", [](ByteSpan, uint32_t) {
    return Result<cvm::testing::FakeTsmOutput>(cvm::testing::FakeTsmOutput{Bytes(100, 1), {}});
  });
  auto ev = NewTsmProvider(fs, "/cfg/tsm/report")->GetReport(Nonce(), 0);
  CHECK(ev.status().message().find("not an SNP report") != std::string::npos);
}

TEST_CASE("configfs-tsm firmware failures are passed through") {
  cvm::testing::FakeTsmFs fs("/cfg/tsm/report", "sev_guest", [](ByteSpan, uint32_t) {
    return Result<cvm::testing::FakeTsmOutput>(IoError("firmware said no"));
  });
  auto ev = NewTsmProvider(fs, "/cfg/tsm/report")->GetReport(Nonce(), 0);
  CHECK(ev.status().ToString().find("firmware said no") != std::string::npos);
  CHECK(fs.live_entries() == 0);
}

TEST_CASE("The factory prefers configfs-tsm, then the ioctl, and says which") {
  cvm::testing::FakeTsmFs fs("/cfg/tsm/report", "sev_guest", [](ByteSpan in, uint32_t) {
    return Result<cvm::testing::FakeTsmOutput>(SimOutput(in));
  });
  FakeSevGuest sys;
  auto tsm = NewReportProvider(fs, sys, "/cfg/tsm/report");
  REQUIRE(tsm.ok());
  CHECK((*tsm)->Name() == "configfs-tsm");
  auto ioctl = NewReportProvider(fs, sys, "/no/configfs");
  REQUIRE(ioctl.ok());
  CHECK((*ioctl)->Name() == "sev-guest ioctl");
  sys.device_present = false;
  auto none = NewReportProvider(fs, sys, "/no/configfs");
  CHECK(none.status().code() == Code::kNotFound);
  CHECK(none.status().message().find("/dev/sev-guest") != std::string::npos);
}

}  // namespace
}  // namespace cvm::snp
