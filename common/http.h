// The HTTP seam. Code that talks to a certificate service (AMD KDS, Intel PCS) or a relying party
// takes an HttpClient; production uses libcurl, tests a fake or a loopback server.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.h"

namespace cvm {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  Bytes body;
  std::chrono::milliseconds timeout{30000};
  size_t max_response_bytes = 8 << 20;
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  Bytes body;
  // The first header of that (case-insensitive) name, or "".
  std::string Header(std::string_view name) const;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Returns the response for any HTTP status; fails only when no response was received
  // (kUnavailable: connection, kDeadlineExceeded: timeout, kInvalidInput: bad URL or a response
  // over max_response_bytes); the error message names the URL, so callers need not repeat it.
  // Thread-compatible: one request at a time per client.
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

// libcurl-backed client. TLS peers are verified against the system CA store.
std::unique_ptr<HttpClient> NewCurlHttpClient();

}  // namespace cvm
