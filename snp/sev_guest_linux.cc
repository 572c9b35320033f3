// /dev/sev-guest: SNP_GET_REPORT and SNP_GET_EXT_REPORT (drivers/virt/coco/sev-guest).
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "common/status.h"
#include "snp/provider.h"
#include "snp/report.h"
#include "snp/sev_guest_uapi.h"

namespace cvm::snp {
namespace {

class RealSys final : public SevGuestSys {
 public:
  Result<int> Open(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(errno, path);
    return fd;
  }
  int Ioctl(int fd, unsigned long request, void* arg) override {  // NOLINT(google-runtime-int)
    int rc;
    do {
      rc = ::ioctl(fd, request, arg);
    } while (rc < 0 && errno == EINTR);
    return rc < 0 ? errno : 0;
  }
  void Close(int fd) override { ::close(fd); }
  TimePoint Now() override { return std::chrono::system_clock::now(); }
  void Sleep(std::chrono::milliseconds d) override { std::this_thread::sleep_for(d); }
};

std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));  // NOLINT
  return buf;
}

// The message for a failed guest request: errno, firmware status and VMM error.
Status RequestError(int err, uint64_t exitinfo2, const char* what) {
  uint32_t fw = static_cast<uint32_t>(exitinfo2);
  uint32_t vmm = static_cast<uint32_t>(exitinfo2 >> 32);
  std::string detail = std::string(what) + ": " + std::strerror(err);
  if (exitinfo2 != 0 && exitinfo2 != 0xff) {
    detail += " (firmware status " + Hex(fw) + " " + FirmwareErrorName(fw) + ", VMM error " +
              Hex(vmm) + ")";
  }
  if (err == ENOTTY) {
    return Unavailable(detail +
                       ": the kernel disabled this VMPCK after an earlier failure; "
                       "reboot the guest to attest again");
  }
  if (err == ETIMEDOUT || err == EAGAIN || err == EBUSY || vmm == uapi::kVmmErrBusy) {
    return Unavailable(detail + ": the host is throttling attestation requests");
  }
  if (err == EINVAL) return InvalidInput(detail);
  return IoError(detail);
}

class SevGuestProvider final : public ReportProvider {
 public:
  SevGuestProvider(SevGuestSys& sys, SevGuestOptions options)
      : sys_(sys), options_(std::move(options)) {}

  std::string_view Name() const override { return "sev-guest ioctl"; }

  Result<SnpEvidence> GetReport(const std::array<uint8_t, 64>& report_data,
                                uint32_t vmpl) override {
    if (vmpl > 3) return InvalidInput("vmpl " + std::to_string(vmpl) + " is not 0..3");
    Throttle();
    CVM_ASSIGN_OR_RETURN(int fd, sys_.Open(options_.device));
    auto result = Request(fd, report_data, vmpl);
    sys_.Close(fd);
    last_request_ = sys_.Now();
    return result;
  }

 private:
  void Throttle() {
    if (!last_request_) return;
    auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(sys_.Now() - *last_request_);
    if (elapsed < options_.min_interval) sys_.Sleep(options_.min_interval - elapsed);
  }

  Result<SnpEvidence> Request(int fd, const std::array<uint8_t, 64>& report_data, uint32_t vmpl) {
    uapi::SnpExtReportReq req{};
    std::memcpy(req.data.user_data, report_data.data(), 64);
    req.data.vmpl = vmpl;
    uint32_t certs_len = options_.extended ? options_.initial_certs_len : 0;
    Bytes certs;
    auto deadline = sys_.Now() + options_.busy_retry_budget;
    for (int grow = 0;;) {
      uapi::SnpReportResp resp{};
      certs.assign(certs_len, 0);
      req.certs_address = certs_len ? reinterpret_cast<uint64_t>(certs.data()) : 0;
      req.certs_len = certs_len;
      uapi::SnpGuestRequestIoctl guest{};
      guest.msg_version = uapi::kMsgVersion;
      guest.req_data = options_.extended ? reinterpret_cast<uint64_t>(&req)
                                         : reinterpret_cast<uint64_t>(&req.data);
      guest.resp_data = reinterpret_cast<uint64_t>(&resp);
      int err =
          sys_.Ioctl(fd, options_.extended ? uapi::kSnpGetExtReport : uapi::kSnpGetReport, &guest);
      if (err == 0) return Decode(resp, std::move(certs), req.certs_len);
      if (options_.extended && err == EIO && guest.exitinfo2 == uapi::kVmmErrInvalidLen) {
        // The certificate buffer was too small; the kernel wrote the size it needs.
        if (++grow > 3 || req.certs_len <= certs_len || req.certs_len > options_.max_certs_len) {
          return InvalidInput("sev-guest: the host's certificates need " +
                              std::to_string(req.certs_len) + " bytes (limit " +
                              std::to_string(options_.max_certs_len) + ")");
        }
        certs_len = req.certs_len;
        continue;
      }
      bool busy =
          err == EAGAIN || static_cast<uint32_t>(guest.exitinfo2 >> 32) == uapi::kVmmErrBusy;
      if (busy && sys_.Now() + options_.busy_retry_delay <= deadline) {
        sys_.Sleep(options_.busy_retry_delay);
        continue;
      }
      return RequestError(err, guest.exitinfo2,
                          options_.extended ? "SNP_GET_EXT_REPORT" : "SNP_GET_REPORT");
    }
  }

  static Result<SnpEvidence> Decode(const uapi::SnpReportResp& resp, Bytes certs, uint32_t len) {
    ByteSpan data(resp.data, sizeof(resp.data));
    uint32_t status = LoadLe32(data, 0);
    uint32_t size = LoadLe32(data, 4);
    if (status != 0) {
      return Internal("MSG_REPORT_RSP: firmware status " + Hex(status) + " " +
                      FirmwareErrorName(status));
    }
    if (size != kReportSize) {
      return Internal("MSG_REPORT_RSP: report size " + std::to_string(size) + ", expected " +
                      std::to_string(kReportSize));
    }
    SnpEvidence ev;
    auto report = data.subspan(uapi::kReportRespHeaderSize, kReportSize);
    ev.report.assign(report.begin(), report.end());
    certs.resize(std::min<size_t>(certs.size(), len));
    auto table = ParseCertTable(certs);
    if (!table.ok()) return table.status().WithContext("host certificates");
    ev.certs = std::move(*table);
    ev.cert_table = std::move(certs);
    return ev;
  }

  SevGuestSys& sys_;
  SevGuestOptions options_;
  std::optional<TimePoint> last_request_;
};

}  // namespace

SevGuestSys& RealSevGuestSys() {
  static RealSys sys;
  return sys;
}

std::unique_ptr<ReportProvider> NewSevGuestProvider(SevGuestSys& sys, SevGuestOptions options) {
  return std::make_unique<SevGuestProvider>(sys, std::move(options));
}

std::string FirmwareErrorName(uint32_t code) {
  static constexpr const char* kNames[] = {"SUCCESS",
                                           "INVALID_PLATFORM_STATE",
                                           "INVALID_GUEST_STATE",
                                           "INVALID_CONFIG",
                                           "INVALID_LENGTH",
                                           "ALREADY_OWNED",
                                           "INVALID_CERTIFICATE",
                                           "POLICY_FAILURE",
                                           "INACTIVE",
                                           "INVALID_ADDRESS",
                                           "BAD_SIGNATURE",
                                           "BAD_MEASUREMENT",
                                           "ASID_OWNED",
                                           "INVALID_ASID",
                                           "WBINVD_REQUIRED",
                                           "DF_FLUSH_REQUIRED",
                                           "INVALID_GUEST",
                                           "INVALID_COMMAND",
                                           "ACTIVE",
                                           "HWERROR_PLATFORM",
                                           "HWERROR_UNSAFE",
                                           "UNSUPPORTED",
                                           "INVALID_PARAM",
                                           "RESOURCE_LIMIT",
                                           "SECURE_DATA_INVALID",
                                           "INVALID_PAGE_SIZE",
                                           "INVALID_PAGE_STATE",
                                           "INVALID_MDATA_ENTRY",
                                           "INVALID_PAGE_OWNER",
                                           "AEAD_OFLOW"};
  if (code < std::size(kNames)) return kNames[code];
  return "UNKNOWN_STATUS";
}

}  // namespace cvm::snp
