// Shared output helpers for cvmctl commands.
#pragma once

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "common/verdict.h"
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
// Prints a verdict and returns its exit code (0 verified, 1 rejected). With `json`, the verdict
// as one JSON object (VerdictToJson) on stdout; otherwise VerdictSummary on stdout. A rejected
// verdict also prints "cvmctl: rejected: <reasons>" to stderr.
int PrintVerdict(const Verdict& verdict, bool json);
// For a verify command whose evidence could not be appraised: prints "cvmctl: <status>" to
// stderr and, with `json`, one JSON object of the verdict shape on stdout ("verified": false,
// the status as the only reason, plus "error": {"code", "message"}); returns ExitCodeFor(status).
// `tee` may be empty when the kind of evidence is not known.
int PrintVerifyError(const Status& status, const std::string& tee, bool json);

// Writes to `path` ("-" or empty: stdout) atomically with `mode`.
Status WriteOutput(const std::string& path, ByteSpan data, unsigned mode = 0644);

// A command group's verb dispatch: "--help"/"-h" prints `usage` to stdout (exit 0); no verb or
// an unknown one prints it to stderr, the latter after "cvmctl: unknown GROUP verb 'V'" (exit 2);
// otherwise the verb's handler runs with the arguments after it.
using VerbHandler = int (*)(std::span<const std::string>);
int RunVerbs(std::span<const std::string> args, std::string_view group, const char* usage,
             std::initializer_list<std::pair<std::string_view, VerbHandler>> verbs);

}  // namespace cvm::cli
