// Kernel structures of /dev/sev-guest (include/uapi/linux/sev-guest.h). Private to
// sev_guest_linux.cc and its tests; layouts are pinned by static_asserts below.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cvm::snp::uapi {

struct SnpReportReq {
  uint8_t user_data[64];
  uint32_t vmpl;
  uint8_t rsvd[28];
};

struct SnpReportResp {
  uint8_t data[4000];
};

struct SnpGuestRequestIoctl {
  uint8_t msg_version;  // must be non-zero (1)
  uint64_t req_data;    // address of the request struct
  uint64_t resp_data;   // address of SnpReportResp
  uint64_t exitinfo2;   // bits 31:0 firmware error, 63:32 VMM error
};

struct SnpExtReportReq {
  SnpReportReq data;
  uint64_t certs_address;
  uint32_t certs_len;  // page-aligned; the kernel writes the needed size back on INVALID_LEN
};

static_assert(sizeof(SnpReportReq) == 96);
static_assert(sizeof(SnpReportResp) == 4000);
static_assert(sizeof(SnpGuestRequestIoctl) == 32);
static_assert(offsetof(SnpGuestRequestIoctl, req_data) == 8);
static_assert(offsetof(SnpGuestRequestIoctl, exitinfo2) == 24);
static_assert(sizeof(SnpExtReportReq) == 112);
static_assert(offsetof(SnpExtReportReq, certs_address) == 96);
static_assert(offsetof(SnpExtReportReq, certs_len) == 104);

// _IOWR('S', nr, struct snp_guest_request_ioctl): dir 3 << 30 | size 32 << 16 | 'S' << 8 | nr.
inline constexpr unsigned long kSnpGetReport = 0xC0205300;     // NOLINT(google-runtime-int)
inline constexpr unsigned long kSnpGetExtReport = 0xC0205302;  // NOLINT(google-runtime-int)

inline constexpr uint64_t kVmmErrInvalidLen = uint64_t{1} << 32;  // SNP_GUEST_VMM_ERR(1)
inline constexpr uint32_t kVmmErrBusy = 2;
inline constexpr uint8_t kMsgVersion = 1;
// MSG_REPORT_RSP: u32 status, u32 report_size, 24 reserved bytes, then the report.
inline constexpr size_t kReportRespHeaderSize = 0x20;

}  // namespace cvm::snp::uapi
