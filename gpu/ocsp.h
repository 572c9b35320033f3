// OCSP (RFC 6960) for the intermediate certificates of GPU chains, asked of NVIDIA's responder
// (https://ocsp.ndis.nvidia.com/, POST application/ocsp-request) with OpenSSL's OCSP code. Online
// only and optional: a verifier without network access leaves it off, and the verdict says the
// check did not run. Answers are cached until their nextUpdate.
//
// Which certificates (gpu-evidence.md section 3, NVIDIA's verifiers): GPU-chain indices
// 1..n-2, i.e. neither the leaf (issued by the GPU's own BROM certificate, which no responder
// knows) nor the root. Each request carries a nonce; the response must be successful, signed by a
// responder whose chain verifies to the trust anchors at the injected time, echo the nonce, cover
// the certificate, be current (thisUpdate <= at <= nextUpdate, 5 minutes of clock skew), and say
// "good" (a certificateHold revocation is accepted only with allow_hold).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/http.h"
#include "common/status.h"
#include "common/x509.h"

namespace cvm::gpu {

inline constexpr char kNvidiaOcspUrl[] = "https://ocsp.ndis.nvidia.com/";

// Answers already verified, keyed by issuer and serial, valid until their nextUpdate (an answer
// without one is kept one hour). Thread-safe.
class OcspCache {
 public:
  struct Entry {
    std::string status;  // "good", "revoked (reason)", ...: what CheckChainOcsp reports
    bool good = false;
    TimePoint until;
  };
  bool Find(const std::string& key, TimePoint at, Entry* out) const;
  void Put(const std::string& key, Entry entry);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;  // GUARDED_BY(mu_)
};

struct OcspOptions {
  HttpClient* http = nullptr;  // required; not owned, one request at a time
  std::string url = kNvidiaOcspUrl;
  TimePoint at{};  // REQUIRED: the time answers are checked at (from a Clock; epoch refused)
  // Trust anchors of the responder's chain; empty: NVIDIA's device identity root (roots.h).
  std::vector<Certificate> anchors;
  bool allow_hold = false;     // accept certificateHold (NVIDIA's --allow_hold_cert)
  OcspCache* cache = nullptr;  // nullptr: every certificate asked every time
};

// Checks chain[1..n-2] (leaf first, root last). Returns one reason per certificate whose status
// is not good or whose answer does not verify (naming its CN), empty when all are good. Errors:
// kInvalidInput without an HTTP client; the HTTP client's error (kUnavailable, ...) when the
// responder cannot be reached, so a caller can tell "revoked" from "offline".
Result<std::vector<std::string>> CheckChainOcsp(const std::vector<Certificate>& chain,
                                                const OcspOptions& options);

}  // namespace cvm::gpu
