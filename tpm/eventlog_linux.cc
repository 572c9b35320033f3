#include "common/file_util.h"
#include "tpm/eventlog.h"

namespace cvm::tpm {

// Firmware logs are tens of kilobytes; 4 MiB leaves room for large ones and bounds a bad file.
constexpr size_t kMaxEventLogSize = 4 << 20;

Result<Bytes> ReadLinuxEventLog(const std::string& path) {
  auto data = ReadFile(path, kMaxEventLogSize);
  if (!data.ok() && data.status().code() == Code::kNotFound) {
    return NotFound(path + ": no TPM event log (no TPM, or securityfs is not mounted)");
  }
  return data;
}

}  // namespace cvm::tpm
