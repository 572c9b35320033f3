// The HTTP seam. Code that talks to a certificate service (AMD KDS, Intel PCS) or a relying party
// takes an HttpClient; production uses libcurl, tests a fake or a loopback server.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/bytes.h"

namespace cvm {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  Bytes body;
  std::chrono::milliseconds timeout{30000};          // whole transfer
  std::chrono::milliseconds connect_timeout{10000};  // TCP + TLS handshake
  size_t max_response_bytes = 8 << 20;
  // TLS (https only; peers are always verified, there is no option to turn that off).
  // Empty: the system CA store. Otherwise a PEM file of the CAs to trust instead.
  std::string ca_file;
  // Empty: no pinning. Otherwise base64 SHA-256 digests of the server's SubjectPublicKeyInfo,
  // separated by ';' (curl's "sha256//A;sha256//B" without the prefixes); the handshake fails
  // unless the server key matches one of them.
  std::string pinned_spki_sha256;
  // nullopt: libcurl's default (the http_proxy/https_proxy/no_proxy environment).
  // "": no proxy at all, whatever the environment says. Otherwise the proxy URL to use.
  std::optional<std::string> proxy;
  // Connect to this unix socket instead of the URL's host (the URL still gives the path and the
  // Host header), e.g. the agent's API at /run/cvm-agent/api.sock. Empty: TCP as usual.
  std::string unix_socket;
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

// Makes a client; a factory that cannot (e.g. the helper process did not start) says why.
using HttpClientFactory = std::function<Result<std::unique_ptr<HttpClient>>()>;

// libcurl-backed client. TLS peers are always verified (against the system CA store or
// HttpRequest::ca_file); a pin mismatch or failed verification is kRejected. Redirects are not
// followed and no cookie is stored between requests.
// `keep_alive` false (the default): every request opens its own connection and closes it.
// true: the client keeps its connections open and reuses one for the next request to the same
// server with the same ca_file, pins, proxy and unix_socket (one TCP/TLS connection for a whole
// KBS exchange, as Trustee's client holds it); they close when the client is destroyed.
std::unique_ptr<HttpClient> NewCurlHttpClient(bool keep_alive = false);

// The CURLOPT_PINNEDPUBLICKEY value for HttpRequest::pinned_spki_sha256: "sha256//A;sha256//B".
// kInvalidInput naming a pin that is not the base64 of 32 bytes.
Result<std::string> PinnedPublicKeyOption(std::string_view pins);

}  // namespace cvm
