// Kernel ABI of /dev/tdx_guest (include/uapi/linux/tdx-guest.h) and the sysfs measurement
// interface (Documentation/ABI/testing/sysfs-devices-virtual-misc-tdx_guest, Linux 6.16+).
// Private to tdx_guest_linux.cc and its tests.
#pragma once

#include <cstdint>

namespace cvm::tdx::uapi {

inline constexpr unsigned kReportDataLen = 64;
inline constexpr unsigned kReportLen = 1024;

struct tdx_report_req {
  uint8_t reportdata[kReportDataLen];
  uint8_t tdreport[kReportLen];
};
static_assert(sizeof(tdx_report_req) == 1088);

// _IOWR('T', 1, struct tdx_report_req)
inline constexpr unsigned long kTdxCmdGetReport0 = 0xC4405401ul;

inline constexpr const char kTdxGuestDevice[] = "/dev/tdx_guest";
inline constexpr const char kMeasurementsDir[] = "/sys/devices/virtual/misc/tdx_guest/measurements";

}  // namespace cvm::tdx::uapi
