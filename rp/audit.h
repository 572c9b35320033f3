// The audit trail: one line per decision (a challenge issued, an attestation appraised, a
// resource released or refused), as a JSON object with the client address, the session, the
// TEE kind, the evidence digest, the verdict and every reason. Never a resource value, a nonce's
// secret counterpart or a token. To a file (appended, one line per record) or, by default,
// through common/log.h (journald fields CVM_AUDIT_*). Thread-safe.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace cvm::rp {

struct AuditRecord {
  std::string event;            // "auth", "attest", "resource"
  std::string client;           // "address:port"
  std::string session;          // the kbs-session-id, "" when none
  std::string tee;              // "snp", ... ; "" when unknown
  std::string evidence_digest;  // "sha256:<hex>" of the attestation body, or of the token's
  std::string resource;         // "repo/type/tag" for resource requests
  bool allowed = false;
  int status = 0;                    // the HTTP status answered
  std::vector<std::string> reasons;  // why it was refused (empty when allowed)
};

// AuditRecord::evidence_digest of `data` (an attestation body, a bearer token): "sha256:<hex>".
std::string AuditDigest(std::string_view data);

class AuditLog {
 public:
  // `file` empty: through common/log.h. Otherwise the file is opened for appending (0600 when
  // created) and kept open.
  static Result<std::unique_ptr<AuditLog>> Open(const std::string& file, const Clock& clock);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  void Write(const AuditRecord& record);
  // The JSON line (without newline) a record is written as.
  std::string Format(const AuditRecord& record) const;

 private:
  AuditLog(std::FILE* file, const Clock& clock) : file_(file), clock_(clock) {}
  std::mutex mu_;
  std::FILE* file_;  // nullptr: log; guarded by mu_
  const Clock& clock_;
};

}  // namespace cvm::rp
