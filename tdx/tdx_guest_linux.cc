#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/file_util.h"
#include "tdx/tdx_guest.h"
#include "tdx/tdx_guest_uapi.h"

namespace cvm::tdx {
namespace {

class RealSys final : public TdxGuestSys {
 public:
  Result<int> Open(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(errno, "open " + path);
    return fd;
  }
  // NOLINTNEXTLINE(google-runtime-int): ioctl(2)'s request type.
  Status Ioctl(int fd, unsigned long request, void* arg) override {
    int rc;
    do {
      rc = ::ioctl(fd, request, arg);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) return ErrnoStatus(errno, "ioctl");
    return Status::Ok();
  }
  void Close(int fd) override { ::close(fd); }
  bool Exists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }
  Status WriteAttr(const std::string& path, ByteSpan data) override {
    return WriteAttribute(path, data);
  }
};

}  // namespace

TdxGuestSys& RealTdxGuestSys() {
  static RealSys sys;
  return sys;
}

Result<Bytes> GetTdReport(TdxGuestSys& sys, ByteSpan report_data, const std::string& device) {
  if (report_data.size() != uapi::kReportDataLen) {
    return InvalidInput("tdx report data must be 64 bytes, got " +
                        std::to_string(report_data.size()));
  }
  if (!sys.Exists(device)) return NotFound(device + " does not exist (not a TDX guest?)");
  CVM_ASSIGN_OR_RETURN(int fd, sys.Open(device));
  uapi::tdx_report_req req{};
  std::memcpy(req.reportdata, report_data.data(), uapi::kReportDataLen);
  Status s = sys.Ioctl(fd, uapi::kTdxCmdGetReport0, &req);
  sys.Close(fd);
  if (!s.ok()) return s.WithContext("TDX_CMD_GET_REPORT0");
  return Bytes(req.tdreport, req.tdreport + uapi::kReportLen);
}

Status ExtendRtmr(TdxGuestSys& sys, int index, ByteSpan digest, const std::string& dir) {
  if (index < 0 || index > 3) return InvalidInput("RTMR index must be 0..3");
  if (digest.size() != 48) {
    return InvalidInput("RTMR extend needs a 48-byte SHA-384 digest, got " +
                        std::to_string(digest.size()));
  }
  std::string path = dir + "/rtmr" + std::to_string(index) + ":sha384";
  if (!sys.Exists(path)) {
    return NotFound(path + " does not exist (the sysfs RTMR interface needs Linux 6.16+)");
  }
  return sys.WriteAttr(path, digest).WithContext("RTMR" + std::to_string(index) + " extend");
}

}  // namespace cvm::tdx
