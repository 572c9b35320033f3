#include "cli/output.h"

#include <unistd.h>

#include <cstdio>

#include "common/args.h"
#include "common/file_util.h"

namespace cvm::cli {

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case Code::kOk:
      return kExitOk;
    case Code::kRejected:
      return kExitRejected;
    case Code::kInvalidInput:
    case Code::kNotFound:
    case Code::kUnsupported:
      return kExitUsage;
    case Code::kUnavailable:
    case Code::kDeadlineExceeded:
    case Code::kPermissionDenied:
    case Code::kIoError:
      return kExitUnavailable;
    case Code::kInternal:
      return kExitInternal;
  }
  return kExitInternal;
}

int Fail(const Status& status) {
  std::fprintf(stderr, "cvmctl: %s\n", status.ToString().c_str());
  return ExitCodeFor(status);
}

Result<Bytes> ReadInput(const std::string& path) {
  if (path != "-") return ReadFile(path);
  Bytes out;
  uint8_t buf[16384];
  ssize_t n;
  while ((n = ::read(STDIN_FILENO, buf, sizeof(buf))) > 0) {
    if (out.size() + static_cast<size_t>(n) > kDefaultMaxFileSize) {
      return InvalidInput("stdin: larger than " + std::to_string(kDefaultMaxFileSize) + " bytes");
    }
    out.insert(out.end(), buf, buf + n);
  }
  if (n < 0) return ErrnoStatus(errno, "read stdin");
  return out;
}

Result<std::vector<Certificate>> ReadCertificates(const std::vector<std::string>& paths) {
  std::vector<Certificate> out;
  for (const std::string& path : paths) {
    CVM_ASSIGN_OR_RETURN(Bytes data, ReadInput(path));
    auto certs = ParseCertificates(data);
    if (!certs.ok()) return certs.status().WithContext(path);
    out.insert(out.end(), certs->begin(), certs->end());
  }
  return out;
}

Status WriteOutput(const std::string& path, ByteSpan data, unsigned mode) {
  if (path.empty() || path == "-") {
    if (std::fwrite(data.data(), 1, data.size(), stdout) != data.size()) {
      return IoError("write to stdout failed");
    }
    std::fflush(stdout);
    return Status::Ok();
  }
  return WriteFileAtomic(path, data, static_cast<mode_t>(mode));
}

}  // namespace cvm::cli
