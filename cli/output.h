// Shared output helpers for cvmctl commands.
#pragma once

#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "common/x509.h"

namespace cvm::cli {

// The exit code for a failed status: kRejected -> 1; kInvalidInput, kNotFound, kUnsupported -> 2;
// kUnavailable, kDeadlineExceeded, kPermissionDenied, kIoError -> 3; otherwise 4.
int ExitCodeFor(const Status& status);
// Prints "cvmctl: <status>" to stderr and returns ExitCodeFor(status).
int Fail(const Status& status);
// Reads an input file named on the command line ("-" is stdin); errors name the file.
Result<Bytes> ReadInput(const std::string& path);
// Reads every certificate (PEM, one or more per file, or DER) from the named files, in order;
// errors name the file.
Result<std::vector<Certificate>> ReadCertificates(const std::vector<std::string>& paths);
// Writes to `path` ("-" or empty: stdout) atomically with `mode`.
Status WriteOutput(const std::string& path, ByteSpan data, unsigned mode = 0644);

}  // namespace cvm::cli
