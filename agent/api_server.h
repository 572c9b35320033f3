// The HTTP/1.1 server of the local API on Boost.Beast (api_server.cc is the only translation unit
// that includes Beast). It listens on a unix socket and optionally on 127.0.0.1:<port>, reads each
// request within the header/body limits and the read timeout (a slow client holds neither a
// thread nor a slot past it), takes the caller's uid/gid from SO_PEERCRED on the unix socket, and
// runs the handler on a worker pool so a slow evidence request does not block other callers.
// Answers are written with the same timeout; secret bodies are wiped after sending.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "agent/api.h"
#include "common/status.h"

namespace cvm::agent {

struct ApiServerOptions {
  std::string unix_path;  // created (a stale socket replaced); empty: no unix listener
  mode_t unix_mode = 0666;
  int unix_fd = -1;  // an inherited listening socket (sd_listen_fds); takes precedence
  std::optional<uint16_t> tcp_port;  // 0: an ephemeral port (tests); bound to 127.0.0.1 only
  int tcp_fd = -1;                   // an inherited TCP listening socket
  size_t header_limit = 8192;
  size_t body_limit = 4096;
  std::chrono::milliseconds read_timeout{10000};
  size_t max_connections = 64;
  int io_threads = 2;
  int worker_threads = 4;
};

class ApiServer {
 public:
  virtual ~ApiServer() = default;
  // The bound TCP port (0 when there is no TCP listener).
  virtual uint16_t tcp_port() const = 0;
  // Stops accepting, closes every connection and joins the threads. Idempotent.
  virtual void Stop() = 0;
};

// Binds the listeners and starts serving. `handler` must outlive the server.
Result<std::unique_ptr<ApiServer>> StartApiServer(const ApiServerOptions& options,
                                                  ApiHandler& handler);

}  // namespace cvm::agent
