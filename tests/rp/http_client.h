// A small libcurl client for the relying-party tests: one connection reused (keep-alive), the
// kbs-session-id cookie kept by hand so tests can drop, replace or replay it, paths sent as they
// are (no "../" normalisation).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace cvm::rp::testing {

struct Reply {
  long status = 0;  // 0: no response (the error is in `error`)
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string error;
  std::string Header(const std::string& lower_name) const;
  nlohmann::json Json() const;  // discarded value when the body is not JSON
};

class KbsClient {
 public:
  // `base` e.g. "http://127.0.0.1:1234"; `ca_file` for https.
  explicit KbsClient(std::string base, std::string ca_file = "");
  ~KbsClient();
  KbsClient(const KbsClient&) = delete;
  KbsClient& operator=(const KbsClient&) = delete;

  Reply Send(const std::string& method, const std::string& path, const std::string& body = "",
             const std::vector<std::string>& headers = {});
  // POST /kbs/v0/auth; keeps the cookie it sets.
  Reply Auth(const std::string& tee = "snp", const std::string& version = "0.4.0");
  Reply Attest(const std::string& body);
  Reply Resource(const std::string& path, const std::string& bearer = "");

  std::string cookie;  // the kbs-session-id value sent with every request ("" : none)
  std::string nonce;   // from the last successful Auth

 private:
  std::string base_, ca_file_;
  void* curl_;
};

}  // namespace cvm::rp::testing
