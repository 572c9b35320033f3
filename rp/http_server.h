// The HTTP/HTTPS front end of cvm-rp on Boost.Beast/Asio (the only file that includes Beast is
// http_server.cc). Many connections at once on a small pool of threads; request size and header
// limits, read timeouts and keep-alive. The server knows nothing of the KBS protocol: it hands
// each complete request to a Handler and writes back what the handler returns.
//
// Limits (Trustee runs on actix-web, whose PayloadConfig answers an oversized body with 413 and
// an oversized header block with 431; we do the same and close the connection):
//   body over max_body        -> 413 Payload Too Large
//   headers over max_header   -> 431 Request Header Fields Too Large
//   malformed HTTP            -> 400 Bad Request
//   no complete request within read_timeout -> the connection is closed
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace cvm::rp {

struct HttpIn {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as received, e.g. "/kbs/v0/resource/a/b/c?x=1"
  std::string cookie;  // the Cookie header ("" when absent)
  std::string authorization;
  std::string body;
  std::string client;  // "address:port" of the peer
};

struct HttpOut {
  int status = 200;
  std::string content_type;  // "" : no Content-Type header
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Set-Cookie, ...)
};

// Called concurrently from every worker thread; must be thread-safe and must not throw.
using HttpHandler = std::function<HttpOut(const HttpIn&)>;

struct Listener {
  std::string address = "127.0.0.1";  // an IPv4 or IPv6 literal
  uint16_t port = 0;                  // 0: any free port (read it back with ports())
  bool tls = false;
};

struct HttpServerOptions {
  std::vector<Listener> listeners;
  std::string tls_cert_file;  // PEM chain; required when a listener has tls
  std::string tls_key_file;   // PEM private key
  int threads = 2;
  size_t max_body = 2 << 20;  // Trustee's default payload_request_size (2 MiB)
  size_t max_header = 16 << 10;
  std::chrono::seconds read_timeout{30};
  size_t max_connections = 4096;  // further connections are accepted and closed at once
};

class HttpServer {
 public:
  // Binds every listener, loads the TLS certificate and key, and starts the worker threads.
  // kInvalidInput for bad options or TLS files, kUnavailable when an address cannot be bound.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                   HttpHandler handler);
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound ports, in the order of options.listeners.
  std::vector<uint16_t> ports() const;
  // Graceful stop: stops accepting, lets requests being handled finish (up to `grace`), then
  // closes every connection and joins the threads. Idempotent.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cvm::rp
