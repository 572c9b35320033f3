// The TDX guest kernel interfaces other than quotes: the TDREPORT from /dev/tdx_guest
// (TDX_CMD_GET_REPORT0) and RTMR extension through sysfs. All system calls go through
// TdxGuestSys so tests can fake the kernel.
#pragma once

#include <memory>
#include <string>

#include "common/bytes.h"
#include "common/status.h"

namespace cvm::tdx {

// The system-call seam. Implementations map errno to statuses with ErrnoStatus.
class TdxGuestSys {
 public:
  virtual ~TdxGuestSys() = default;
  // Opens `path` read-write; returns a descriptor to pass to Ioctl and Close.
  virtual Result<int> Open(const std::string& path) = 0;
  virtual Status Ioctl(int fd, unsigned long request, void* arg) = 0;
  virtual void Close(int fd) = 0;
  virtual bool Exists(const std::string& path) = 0;
  // One write(2) of `data` to an existing file (a sysfs attribute).
  virtual Status WriteAttr(const std::string& path, ByteSpan data) = 0;
};

// The real kernel. Thread-safe.
TdxGuestSys& RealTdxGuestSys();

// Asks the TDX module for a TDREPORT bound to `report_data` (64 bytes) through `device`.
// kNotFound without the device; the ioctl's errno otherwise (EIO: the TDCALL failed).
Result<Bytes> GetTdReport(TdxGuestSys& sys, ByteSpan report_data,
                          const std::string& device = "/dev/tdx_guest");

// Extends RTMR `index` (0-3) with a 48-byte SHA-384 digest by writing it to
// `measurements_dir`/rtmrN:sha384. kNotFound when the kernel has no such interface (before 6.16).
Status ExtendRtmr(
    TdxGuestSys& sys, int index, ByteSpan digest,
    const std::string& measurements_dir = "/sys/devices/virtual/misc/tdx_guest/measurements");

}  // namespace cvm::tdx
