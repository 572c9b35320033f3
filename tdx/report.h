// The TDREPORT (TDREPORT_STRUCT, 1024 bytes) that TDG.MR.REPORT returns through /dev/tdx_guest.
//
// Layout (Intel TDX module ABI, sgx_report2.h; Linux drivers/virt/coco/tdx-guest):
//   0    REPORTMACSTRUCT (256): 0 report_type {type 0x81, subtype 0, version, reserved},
//        4 reserved[12], 16 CPUSVN[16], 32 TEE_TCB_INFO_HASH[48], 80 TEE_INFO_HASH[48],
//        128 REPORTDATA[64], 192 reserved[32], 224 MAC[32]
//   256  TEE_TCB_INFO (239): 0 valid[8], 8 TEE_TCB_SVN[16], 24 MRSEAM[48], 72 MRSIGNERSEAM[48],
//        120 ATTRIBUTES[8], 128 TEE_TCB_SVN2[16] (TDX 1.5), rest reserved
//   495  reserved[17]
//   512  TDINFO (512): 0 ATTRIBUTES[8], 8 XFAM[8], 16 MRTD[48], 64 MRCONFIGID[48], 112 MROWNER[48],
//        160 MROWNERCONFIG[48], 208 RTMR0..3[4x48], 400 SERVTD_HASH[48] (TDX 1.5), rest reserved
// The MAC can only be checked on the platform that produced the report; off-platform a TDREPORT
// is decoded, and its two hashes checked for consistency, but never "verified".
#pragma once

#include <array>

#include "common/bytes.h"
#include "common/status.h"

namespace cvm::tdx {

inline constexpr size_t kTdReportSize = 1024;
inline constexpr size_t kReportDataSize = 64;
inline constexpr uint8_t kReportTypeTdx = 0x81;

struct TdReport {
  uint8_t report_type = 0, report_subtype = 0, report_version = 0;
  Bytes cpu_svn;                                   // 16
  Bytes tee_tcb_info_hash;                         // 48, SHA-384 of the 239-byte TEE_TCB_INFO
  Bytes tee_info_hash;                             // 48, SHA-384 of the 512-byte TDINFO
  Bytes report_data;                               // 64
  Bytes mac;                                       // 32
  Bytes tee_tcb_svn;                               // 16
  Bytes mrseam, mrsignerseam;                      // 48
  Bytes seam_attributes;                           // 8
  Bytes tee_tcb_svn2;                              // 16
  Bytes td_attributes, xfam;                       // 8
  Bytes mrtd, mrconfigid, mrowner, mrownerconfig;  // 48
  std::array<Bytes, 4> rtmr;                       // 48 each
  Bytes servtd_hash;                               // 48
  Bytes tee_tcb_info;                              // the raw 239 bytes
  Bytes td_info;                                   // the raw 512 bytes
};

// Parses a 1024-byte TDREPORT; kInvalidInput on another size or a report type other than TDX.
Result<TdReport> ParseTdReport(ByteSpan data);

// Checks that TEE_TCB_INFO_HASH and TEE_INFO_HASH match the structures they cover (kRejected
// naming the hash otherwise). This detects corruption, not forgery: the hashes are not signed.
Status CheckTdReportHashes(const TdReport& report);

}  // namespace cvm::tdx
