// configfs-tsm: the kernel's TEE-neutral interface for attestation reports
// (Documentation/ABI/testing/configfs-tsm-report, Linux 6.7+).
//
// A report is requested by creating a directory under /sys/kernel/config/tsm/report, writing the
// 64-byte user data to `inblob` (and, for SEV-SNP, the VMPL to `privlevel`), and reading `outblob`
// (the SNP report or the TDX quote) and, for SEV-SNP, `auxblob` (the host's certificate table).
// Every write bumps the entry's `generation`; a reader that sees a generation other than the one
// its own writes produced knows that another writer raced it and must not trust the output.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "common/bytes.h"

namespace cvm {

inline constexpr char kTsmReportRoot[] = "/sys/kernel/config/tsm/report";
inline constexpr size_t kTsmInblobSize = 64;
// TSM_OUTBLOB_MAX is SZ_32K; DICE-based TDX quotes can be larger on newer kernels.
inline constexpr size_t kTsmMaxBlob = 128 * 1024;

// The system-call seam: the few file operations configfs-tsm needs. The real implementation maps
// errno values to statuses with ErrnoStatus; fakes must do the same.
class TsmFs {
 public:
  virtual ~TsmFs() = default;
  virtual bool IsDirectory(const std::string& path) = 0;
  virtual Status MakeDir(const std::string& path) = 0;
  virtual Status RemoveDir(const std::string& path) = 0;
  virtual Result<Bytes> ReadAttr(const std::string& path, size_t max_size) = 0;
  virtual Status WriteAttr(const std::string& path, ByteSpan data) = 0;
};

// The real file system. Thread-safe.
TsmFs& RealTsmFs();

struct TsmReportRequest {
  std::array<uint8_t, kTsmInblobSize> inblob{};
  // SEV-SNP VMPL to request (written to `privlevel`); nullopt: not written (kernel default 0).
  std::optional<uint32_t> privlevel;
  // Read `auxblob` too (SEV-SNP certificate table); a missing or empty auxblob is not an error.
  bool read_auxblob = false;
  // The provider the report must come from ("sev_guest", "tdx_guest"); empty: any.
  std::string expected_provider;
};

struct TsmReport {
  std::string provider;  // without the trailing newline
  Bytes outblob;
  Bytes auxblob;
  uint64_t generation = 0;
};

class TsmReportClient {
 public:
  // `fs` must outlive the client.
  explicit TsmReportClient(TsmFs& fs, std::string root = kTsmReportRoot);

  // Whether configfs-tsm is mounted and has a report directory.
  bool Available() const;

  // Requests one report in a private entry that is removed on every path. Errors:
  // kNotFound when configfs-tsm or a provider is missing; kRejected when the provider is not the
  // expected one; kUnavailable when another writer raced this request (after `attempts` tries);
  // the mapped errno of any failing file operation otherwise.
  Result<TsmReport> GetReport(const TsmReportRequest& request, int attempts = 3);

 private:
  Result<TsmReport> TryOnce(const TsmReportRequest& request, const std::string& entry);
  Result<uint64_t> ReadGeneration(const std::string& entry);

  TsmFs& fs_;
  std::string root_;
};

}  // namespace cvm
