#include "cli/output.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

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

int PrintVerdict(const Verdict& verdict, bool json) {
  std::string out = json ? VerdictToJson(verdict).dump(2) + "\n" : VerdictSummary(verdict);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  if (verdict.verified) return kExitOk;
  std::string msg;
  for (const auto& r : verdict.reasons) msg += (msg.empty() ? "" : "; ") + r;
  if (msg.empty()) msg = "not verified";
  std::fprintf(stderr, "cvmctl: rejected: %s\n", msg.c_str());
  return kExitRejected;
}

int PrintVerifyError(const Status& status, const std::string& tee, bool json) {
  if (json) {
    Verdict v;
    v.tee = tee;
    v.Reject(status.ToString());
    nlohmann::ordered_json j = VerdictToJson(v);
    j["error"] = {{"code", std::string(CodeName(status.code()))}, {"message", status.ToString()}};
    std::string out = j.dump(2) + "\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
  }
  return Fail(status);
}

Result<Bytes> ReadInput(const std::string& path) {
  if (path != "-") {
    // A directory would fail in read() with EISDIR, an I/O error (exit 3); it is unusable input.
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      return InvalidInput(path + ": is a directory, not a file");
    }
    return ReadFile(path);
  }
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

int RunVerbs(std::span<const std::string> args, std::string_view group, const char* usage,
             std::initializer_list<std::pair<std::string_view, VerbHandler>> verbs) {
  if (args.empty()) {
    std::fputs(usage, stderr);
    return kExitUsage;
  }
  if (args[0] == "--help" || args[0] == "-h") {
    std::fputs(usage, stdout);
    return kExitOk;
  }
  for (const auto& [name, handler] : verbs) {
    if (args[0] == name) return handler(args.subspan(1));
  }
  std::fprintf(stderr, "cvmctl: unknown %.*s verb '%s'\n%s", static_cast<int>(group.size()),
               group.data(), args[0].c_str(), usage);
  return kExitUsage;
}

}  // namespace cvm::cli
