// A client of the Trustee KBS attestation protocol (RCAR 0.4.0) over the HttpClient seam: the
// agent daemon and `cvmctl kbs` use it. Wire format: kbs.h and ../shared/reference/kbs-protocol.md.
//
// Attest() runs, against one relying party:
//   1. POST <url>/kbs/v0/auth {"version":"0.4.0","tee":KIND,"extra-params":{"supported-hash-
//      algorithms":[...]}}; a 200 carries the challenge and "Set-Cookie: kbs-session-id=...".
//   2. A fresh ephemeral TeeKeyPair; its public JWK and the nonce go to the EvidenceProvider,
//      which returns evidence whose REPORT_DATA is
//      PadReportData(RuntimeDataDigest(hash, nonce, jwk, additional_evidence)), hash = the
//      challenge's selected-hash-algorithm, else sha384.
//   3. POST <url>/kbs/v0/attest with "Cookie: kbs-session-id=..." -> {"token": JWT}. The token is
//      decoded to read "exp"; when KbsClientOptions::token_key is set its ES256 signature, exp and
//      nbf are verified too (kRejected otherwise).
// GetResource() then does GET <url>/kbs/v0/resource/<repo>/<type>/<tag> with the cookie and
// decrypts the JWE with the session's key. A 401 there means the session or token is gone:
// the client re-attests once and retries, then reports.
//
// Errors: a non-200 answer becomes a Status naming the URL, the HTTP status and the RFC 7807
// body's type variant and detail ("HTTP 401 AttestationError: ..."): 401 -> kRejected,
// 404 -> kNotFound, anything else -> kUnavailable. Relying parties are tried in order: the next
// URL is tried when one cannot be reached, answers 5xx, or answers something that is not the
// protocol (kUnavailable / kDeadlineExceeded / kInvalidInput); a definite protocol answer (401,
// 404) is reported at once. When every URL fails, the error lists each one's reason.
//
// Key lifetime: the ephemeral private key lives as long as the session (it must decrypt every
// resource the token covers); EndSession(), a re-attestation and the destructor free it
// (OpenSSL cleanses EC/RSA private key memory when freeing). Decrypted resources come back as
// SecretBytes. Not thread-safe: one operation at a time per client.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/file_util.h"
#include "common/http.h"
#include "evidence/jose.h"
#include "evidence/kbs.h"

namespace cvm::evidence {

// What the TEE contributes to POST /kbs/v0/attest.
struct KbsEvidence {
  nlohmann::json primary_evidence;  // tee-evidence.primary_evidence (Trustee's shape for the kind)
  std::string additional_evidence;  // "" when there are no additional devices
  std::optional<InitData> init_data;
};

// Produces evidence for a challenge, bound to `tee_pubkey` (see step 2 above). The agent plugs
// its Collect() in here; tests and `cvmctl kbs` plug a simulator in.
using KbsEvidenceProvider = std::function<Result<KbsEvidence>(
    const KbsChallenge& challenge, const nlohmann::json& tee_pubkey, DigestAlg hash)>;

// One relying party and how to reach it.
struct KbsEndpoint {
  std::string url;      // base URL, e.g. "https://kbs.example:8080" (the /kbs/v0/... path is added)
  std::string ca_file;  // empty: the system CA store
  std::string pinned_spki_sha256;    // empty: no pinning (see HttpRequest)
  std::optional<std::string> proxy;  // nullopt: environment; "": none; else the proxy URL
};

struct KbsClientOptions {
  std::vector<KbsEndpoint> endpoints;  // tried in order; at least one
  TeeKind tee = TeeKind::kSnp;
  TeeKeyType key_type = TeeKeyType::kEcP256;
  // Offered in /auth ("supported-hash-algorithms"), lower-case names.
  std::vector<DigestAlg> supported_hashes = {DigestAlg::kSha256, DigestAlg::kSha384,
                                             DigestAlg::kSha512};
  // The relying party's token key (P-256). nullptr: the token is only decoded (like Trustee's
  // client, which never verifies it). Not owned; must outlive the client.
  const EVP_PKEY* token_key = nullptr;
  const Clock* clock = &SystemClock::Get();  // not owned
  std::chrono::milliseconds timeout{30000};
  std::chrono::milliseconds connect_timeout{10000};
  size_t max_response_bytes = 4 << 20;
};

struct KbsToken {
  std::string token;                 // the compact JWT as received
  Jwt jwt;                           // decoded (and verified when a token key is configured)
  std::optional<TimePoint> expires;  // "exp", when present
  std::string url;                   // the relying party that issued it
};

// What a per-VM resource request returned (kbs.h, "vm-resource").
struct VmResourceValue {
  std::optional<SecretBytes> value;  // nullopt: the relying party holds none for this VM (GET)
  bool created = false;              // POST: this request created it (201)
};

class KbsClient {
 public:
  // `http` must outlive the client. REQUIRES: options.endpoints non-empty, evidence callable.
  KbsClient(HttpClient& http, KbsClientOptions options, KbsEvidenceProvider evidence);
  KbsClient(const KbsClient&) = delete;
  KbsClient& operator=(const KbsClient&) = delete;

  // Runs the handshake (a new session) against the relying parties in order.
  Result<KbsToken> Attest();
  // GETs and decrypts `path` ("<repo>/<type>/<tag>", checked with ValidateResourcePath),
  // attesting first when there is no session or its token has expired.
  Result<SecretBytes> GetResource(std::string_view path);
  // The attested VM's own per-VM resource "<type>/<tag>" (kbs.h, "vm-resource"): GET when
  // `create` is false (value nullopt when the relying party answers 404 VmResourceNotFound),
  // POST when it is true (created or the stored value; the value is always set). The same
  // session, re-attestation and failover rules as GetResource. A relying party without the
  // plugin answers 404 PluginNotFound: kNotFound.
  Result<VmResourceValue> VmResource(std::string_view type_tag, bool create);
  // Forgets the session and frees the ephemeral private key.
  void EndSession();

 private:
  struct Session {
    size_t endpoint = 0;
    std::string session_id;
    std::optional<TeeKeyPair> key;
    KbsToken token;
  };
  // *local_failure is set when the failure is ours (the evidence provider), not the server's.
  Result<Session> AttestAt(size_t endpoint, bool* local_failure);
  Result<HttpResponse> Send(const KbsEndpoint& endpoint, std::string method, std::string path,
                            const std::string& session_id, std::string body);
  Result<SecretBytes> FetchWith(Session& session, std::string_view path, int* http_status);
  // The session, retry and failover loop of GetResource and VmResource around `fetch` (what:
  // for messages).
  Result<SecretBytes> WithSession(std::string_view what,
                                  const std::function<Result<SecretBytes>(Session&, int*)>& fetch);
  Status HttpError(const KbsEndpoint& endpoint, std::string_view step,
                   const HttpResponse& response) const;

  HttpClient& http_;
  KbsClientOptions options_;
  KbsEvidenceProvider evidence_;
  std::optional<Session> session_;
};

}  // namespace cvm::evidence
