// Getting SNP reports inside a guest. Two kernel paths sit behind one interface:
// configfs-tsm (Linux 6.7+, /sys/kernel/config/tsm/report, through common/tsm.h) and the
// /dev/sev-guest ioctls (SNP_GET_REPORT / SNP_GET_EXT_REPORT). A factory prefers configfs-tsm.
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/tsm.h"
#include "snp/certs_table.h"

namespace cvm::snp {

// A report and whatever certificates the host supplied with it.
struct SnpEvidence {
  Bytes report;                       // the raw 1184-byte ATTESTATION_REPORT
  Bytes cert_table;                   // raw table as the kernel gave it (may be empty)
  std::vector<CertTableEntry> certs;  // parsed cert_table
};

class ReportProvider {
 public:
  virtual ~ReportProvider() = default;
  // "configfs-tsm" or "sev-guest ioctl".
  virtual std::string_view Name() const = 0;
  // A report with REPORT_DATA = `report_data` at `vmpl` (0-3). Errors: kInvalidInput for a bad
  // vmpl; kUnavailable when firmware or host is busy beyond the retry budget or the VMPCK was
  // disabled; kInternal/kIoError with the decoded firmware/VMM error otherwise. Not thread-safe.
  virtual Result<SnpEvidence> GetReport(const std::array<uint8_t, 64>& report_data,
                                        uint32_t vmpl) = 0;
};

// The system-call seam of /dev/sev-guest. Fakes check the exact structs and command numbers.
class SevGuestSys {
 public:
  virtual ~SevGuestSys() = default;
  // A file descriptor, or the errno status (ErrnoStatus) naming the path.
  virtual Result<int> Open(const std::string& path) = 0;
  // ioctl(2): 0 on success, else the errno value (positive).
  virtual int Ioctl(int fd, unsigned long request, void* arg) = 0;  // NOLINT(google-runtime-int)
  virtual void Close(int fd) = 0;
  virtual TimePoint Now() = 0;
  virtual void Sleep(std::chrono::milliseconds d) = 0;
};
SevGuestSys& RealSevGuestSys();

struct SevGuestOptions {
  std::string device = "/dev/sev-guest";
  // Ask for the host's certificates (SNP_GET_EXT_REPORT). Off: SNP_GET_REPORT only.
  bool extended = true;
  // First certificate buffer size (page-aligned); grown to what the kernel asks for, up to max.
  uint32_t initial_certs_len = 4 * 4096;
  uint32_t max_certs_len = 64 * 4096;
  // At most one request per interval (go-sev-guest self-throttles to 1 per 2 s: the host may
  // throttle guests, and kernels before 6.8 do not retry for us).
  std::chrono::milliseconds min_interval{2000};
  // Retrying when the host says busy: delay between tries and overall budget.
  std::chrono::milliseconds busy_retry_delay{2000};
  std::chrono::milliseconds busy_retry_budget{60000};
};

// `sys` must outlive the provider.
std::unique_ptr<ReportProvider> NewSevGuestProvider(SevGuestSys& sys, SevGuestOptions options = {});
// `fs` must outlive the provider. Requires the configfs provider to be "sev_guest".
std::unique_ptr<ReportProvider> NewTsmProvider(TsmFs& fs, std::string root = kTsmReportRoot);

// A human-readable name for an SEV firmware status code (SEV-SNP ABI "Status Codes").
std::string FirmwareErrorName(uint32_t code);

// Picks configfs-tsm when it is mounted, else /dev/sev-guest when it opens; kNotFound naming
// both otherwise. The provider's Name() says which was chosen.
Result<std::unique_ptr<ReportProvider>> NewReportProvider(
    TsmFs& fs, SevGuestSys& sys, const std::string& tsm_root = kTsmReportRoot,
    SevGuestOptions options = {});

}  // namespace cvm::snp
