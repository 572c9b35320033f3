// An in-memory relying party that implements the server side of Trustee's KBS protocol from
// ../shared/reference/kbs-protocol.md (status codes, error types and details, cookie, nonce,
// binding, token, JWE), behind the HttpClient seam. Its "verifier" accepts evidence of the form
// {"report_data": "<hex of 64 bytes>"} when REPORT_DATA = PadReportData(H(JCS(runtime data))).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/http.h"
#include "common/ossl.h"
#include "evidence/kbs.h"
#include "evidence/kbs_client.h"

namespace cvm::testing {

class FakeKbs {
 public:
  FakeKbs(std::string base_url, const Clock* clock);
  HttpResponse Handle(const HttpRequest& request);

  const std::string& base_url() const { return base_url_; }
  const EVP_PKEY* token_key() const { return token_key_.get(); }
  // Drops every session: the next resource request answers 401 TokenNotFound.
  void ExpireSessions() { sessions_.clear(); }

  // Knobs.
  bool unreachable = false;                      // Send fails as if the host did not answer
  int fail_status = 0;                           // non-zero: every request answers this status
  bool garbage = false;                          // 200 with a body that is not JSON
  bool omit_cookie = false;                      // /auth answers without Set-Cookie
  std::optional<DigestAlg> select_hash;          // challenge extra-params (else "")
  std::map<std::string, std::string> resources;  // "<repo>/<type>/<tag>" -> plaintext
  std::vector<std::string> denied;               // paths the resource policy denies

  // What happened.
  std::vector<std::string> log;           // "POST /kbs/v0/auth", ...
  std::vector<std::string> cookies_seen;  // the Cookie header of each request ("" when none)
  int attestations = 0;                   // successful /attest verifications

 private:
  struct Session {
    std::string nonce;
    std::string tee;
    DigestAlg hash = DigestAlg::kSha384;
    bool attested = false;
    std::string token;
    nlohmann::json tee_pubkey;
  };
  HttpResponse Auth(const HttpRequest& request);
  HttpResponse Attest(const HttpRequest& request);
  HttpResponse Resource(const HttpRequest& request, const std::string& path);

  std::string base_url_;
  const Clock* clock_;
  ossl::PKey token_key_;
  std::map<std::string, Session> sessions_;
};

// Routes requests to the FakeKbs whose base URL prefixes the request URL; other URLs and
// unreachable servers fail with kUnavailable (no response), like a refused connection.
class FakeKbsNetwork final : public HttpClient {
 public:
  void Add(FakeKbs* kbs) { servers_.push_back(kbs); }
  Result<HttpResponse> Send(const HttpRequest& request) override;

 private:
  std::vector<FakeKbs*> servers_;
};

// An evidence provider for FakeKbs: {"report_data": hex(PadReportData(digest))}.
evidence::KbsEvidenceProvider FakeEvidenceProvider();

}  // namespace cvm::testing
