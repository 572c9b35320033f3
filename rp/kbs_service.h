// The KBS protocol server's request handling (no HTTP transport here: http_server.h calls
// Handle). Routes /kbs/v0/auth, /kbs/v0/attest and /kbs/v0/resource/<repo>/<type>/<tag>,
// answers everything else under /kbs/v0/ with 404 PluginNotFound, and uses Trustee's status
// codes and {type, detail} bodies: 401 for every attestation, token and policy failure. The real
// reason goes to the audit log and, when `diagnostic_header` is on, to X-CVM-RP-Reason.
//
// POST /kbs/v0/attest is processed in Trustee's order (kbs-protocol.md section a): cookie ->
// parse -> live session -> already attested: return the stored token -> nonce -> TEE key ->
// appraisal -> policy -> token. A failed attempt leaves the session and its nonce as they were
// (Trustee allows a retry); a nonce yields at most one appraisal that succeeds.
//
// GET resource: the token of the cookie's attested session, else a Bearer token (verified with
// our key and known to this process) -> path -> the governing policy rule against the claims
// the token was issued for (evidence age counted from the nonce's issue) -> the resource ->
// sealed to the TEE key as JWE.
//
// /kbs/v0/vm-resource/<type>/<tag> (GET and POST; evidence/kbs.h, rp/vm_resources.h), once
// EnableVmResources was called: the same token resolution, then the VM id derived from the
// claims the token was issued for, then the policy rule governing "vm/<type>/<tag>", then the
// VM's own value (GET; 404 VmResourceNotFound when it has none) or get-or-create (POST; 201 when
// created), sealed as JWE. Without a store the plugin is absent (404 PluginNotFound).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "evidence/kbs.h"
#include "rp/appraisal.h"
#include "rp/audit.h"
#include "rp/http_server.h"
#include "rp/policy.h"
#include "rp/resources.h"
#include "rp/sessions.h"
#include "rp/vm_resources.h"

namespace cvm::rp {

struct ServiceOptions {
  std::chrono::seconds token_lifetime{300};  // Trustee's EAR tokens: exp = iat + 5 min
  std::string issuer = "cvm-rp";
  bool diagnostic_header = false;  // X-CVM-RP-Reason on refusals
};

inline constexpr std::string_view kReasonHeader = evidence::kKbsReasonHeader;

class KbsService {
 public:
  // All references must outlive the service. `policy` must not be null; `resources` may be
  // empty.
  KbsService(const Clock& clock, SessionStore& sessions, const Appraiser& appraiser,
             const ResourceSealer& sealer, const TokenSigner& signer, AuditLog& audit,
             ServiceOptions options, std::shared_ptr<const Policy> policy,
             std::shared_ptr<const ResourceStore> resources);

  // Replaces the policy and resources (SIGHUP). Requests already running keep what they had.
  void Reload(std::shared_ptr<const Policy> policy, std::shared_ptr<const ResourceStore> resources);

  // Serves per-VM resources from `store` (see above); nullptr: the plugin is absent. Thread-safe.
  void EnableVmResources(std::shared_ptr<VmResourceStore> store);

  // Thread-safe; never throws.
  HttpOut Handle(const HttpIn& request);

 private:
  struct State {
    std::shared_ptr<const Policy> policy;
    std::shared_ptr<const ResourceStore> resources;
    std::shared_ptr<VmResourceStore> vm_store;  // nullptr: no vm-resource plugin
  };
  State Snapshot() const;

  HttpOut Auth(const HttpIn& request);
  HttpOut Attest(const HttpIn& request);
  HttpOut Resource(const HttpIn& request, std::string_view path);
  HttpOut VmResource(const HttpIn& request, std::string_view type_tag);
  // The grant of the request's attested session cookie, else of its Bearer token; nullptr with
  // *refusal set (and the record's reasons filled) when there is none or it is not valid now.
  std::shared_ptr<const Grant> GrantOf(const HttpIn& request, TimePoint now, AuditRecord& record,
                                       HttpOut* refusal);
  HttpOut Refuse(AuditRecord record, int status, std::string_view variant, std::string_view detail);
  std::string SessionCookie(const Session& session) const;

  const Clock& clock_;
  SessionStore& sessions_;
  const Appraiser& appraiser_;
  const ResourceSealer& sealer_;
  const TokenSigner& signer_;
  AuditLog& audit_;
  const ServiceOptions options_;
  mutable std::mutex mu_;
  State state_;  // guarded by mu_
};

// An HTTP date (RFC 7231 IMF-fixdate), as cookies' Expires carries it.
std::string HttpDate(TimePoint t);

}  // namespace cvm::rp
