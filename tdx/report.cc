#include "tdx/report.h"

#include <string>

#include "common/digest.h"

namespace cvm::tdx {
namespace {
Bytes Slice(ByteSpan b, size_t off, size_t n) { return ToBytes(b.subspan(off, n)); }
}  // namespace

Result<TdReport> ParseTdReport(ByteSpan b) {
  if (b.size() != kTdReportSize) {
    return InvalidInput("tdreport: size " + std::to_string(b.size()) + ", expected 1024");
  }
  TdReport r;
  r.report_type = b[0];
  r.report_subtype = b[1];
  r.report_version = b[2];
  if (r.report_type != kReportTypeTdx || r.report_subtype != 0) {
    return InvalidInput("tdreport: report type " + std::to_string(r.report_type) + "/" +
                        std::to_string(r.report_subtype) + " is not TDX (0x81/0)");
  }
  r.cpu_svn = Slice(b, 16, 16);
  r.tee_tcb_info_hash = Slice(b, 32, 48);
  r.tee_info_hash = Slice(b, 80, 48);
  r.report_data = Slice(b, 128, 64);
  r.mac = Slice(b, 224, 32);
  r.tee_tcb_info = Slice(b, 256, 239);
  r.tee_tcb_svn = Slice(b, 256 + 8, 16);
  r.mrseam = Slice(b, 256 + 24, 48);
  r.mrsignerseam = Slice(b, 256 + 72, 48);
  r.seam_attributes = Slice(b, 256 + 120, 8);
  r.tee_tcb_svn2 = Slice(b, 256 + 128, 16);
  r.td_info = Slice(b, 512, 512);
  r.td_attributes = Slice(b, 512, 8);
  r.xfam = Slice(b, 520, 8);
  r.mrtd = Slice(b, 528, 48);
  r.mrconfigid = Slice(b, 576, 48);
  r.mrowner = Slice(b, 624, 48);
  r.mrownerconfig = Slice(b, 672, 48);
  for (size_t i = 0; i < 4; ++i) r.rtmr[i] = Slice(b, 720 + 48 * i, 48);
  r.servtd_hash = Slice(b, 912, 48);
  return r;
}

Status CheckTdReportHashes(const TdReport& report) {
  if (Sha384(report.tee_tcb_info) != report.tee_tcb_info_hash) {
    return Rejected("tdreport: TEE_TCB_INFO_HASH does not match TEE_TCB_INFO");
  }
  if (Sha384(report.td_info) != report.tee_info_hash) {
    return Rejected("tdreport: TEE_INFO_HASH does not match TDINFO");
  }
  return Status::Ok();
}

}  // namespace cvm::tdx
