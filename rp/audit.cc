#include "rp/audit.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/digest.h"
#include "common/encoding.h"
#include "common/log.h"

namespace cvm::rp {

std::string AuditDigest(std::string_view data) {
  return "sha256:" + HexEncode(Sha256(AsBytes(data)));
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& file, const Clock& clock) {
  std::FILE* f = nullptr;
  if (!file.empty()) {
    int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return ErrnoStatus(errno, "audit log " + file);
    f = ::fdopen(fd, "a");
    if (f == nullptr) {
      int err = errno;
      ::close(fd);
      return ErrnoStatus(err, "audit log " + file);
    }
  }
  return std::unique_ptr<AuditLog>(new AuditLog(f, clock));
}

AuditLog::~AuditLog() {
  if (file_ != nullptr) std::fclose(file_);
}

std::string AuditLog::Format(const AuditRecord& r) const {
  nlohmann::ordered_json j;
  j["time"] = FormatTime(clock_.Now());
  j["event"] = r.event;
  j["client"] = r.client;
  if (!r.session.empty()) j["session"] = r.session;
  if (!r.tee.empty()) j["tee"] = r.tee;
  if (!r.evidence_digest.empty()) j["evidence"] = r.evidence_digest;
  if (!r.resource.empty()) j["resource"] = r.resource;
  j["verdict"] = r.allowed ? "allow" : "deny";
  j["status"] = r.status;
  j["reasons"] = r.reasons;
  // Reasons can quote untrusted text: replace bytes that are not UTF-8 rather than throw.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void AuditLog::Write(const AuditRecord& record) {
  std::string line = Format(record);
  std::lock_guard lock(mu_);
  if (file_ != nullptr) {
    std::fputs(line.c_str(), file_);
    std::fputc('\n', file_);
    std::fflush(file_);
    return;
  }
  log::Write(record.allowed ? log::Level::kInfo : log::Level::kNotice, "audit " + line,
             {{"AUDIT_EVENT", record.event},
              {"AUDIT_VERDICT", record.allowed ? "allow" : "deny"},
              {"AUDIT_SESSION", record.session}});
}

}  // namespace cvm::rp
