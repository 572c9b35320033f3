// The HTTP seam across a process boundary. cvm-agentd sends its HTTP requests (the KBS exchange,
// Azure IMDS) through a short-lived helper process, cvm-agent-http, that runs libcurl
// (NewCurlHttpClient) and nothing else:
// - the daemon itself does not map libcurl and the libraries only libcurl needs (GnuTLS, libssl,
//   Kerberos, LDAP, libssh2, nghttp2, ...): about 3.8 MiB of an idle daemon's resident set;
// - the code that parses what the network sends (TLS, HTTP) runs in a process that never holds
//   the TEE key, the TPM or a secret in clear (resources arrive as JWE encrypted to the TEE key,
//   which stays in the daemon), and exits when the exchange ends.
//
// The protocol, on a SOCK_STREAM socketpair that is the helper's fd 3: frames of a 4-byte
// big-endian length followed by a CBOR map (nlohmann::json's CBOR). The helper first sends
// {"hello": "cvm-agent-http", "version": kHttpHelperVersion}; then it answers every request
// frame with one result frame, in order, and exits at end of file. It dies with its parent
// (PR_SET_PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/bytes.h"
#include "common/http.h"
#include "common/status.h"

namespace cvm {

inline constexpr int kHttpHelperVersion = 1;
// The helper's end of the socketpair.
inline constexpr int kHttpHelperFd = 3;
// The largest frame either side accepts: a request (an attestation with its event logs and GPU
// evidence) or a result (at most HttpRequest::max_response_bytes of body, plus headers).
inline constexpr size_t kHttpHelperMaxFrame = 64u << 20;

struct HttpHelperOptions {
  std::string path;         // the helper executable (cvm-agent-http)
  bool keep_alive = false;  // NewCurlHttpClient's keep_alive, in the helper
  // How long the helper may take to start (exec, loading libcurl) and say hello.
  std::chrono::milliseconds start_timeout{10000};
  // How long past a request's own timeout the helper may take to answer before it is killed
  // (libcurl enforces HttpRequest::timeout; this catches a helper that hangs).
  std::chrono::milliseconds grace{5000};
};

// Starts the helper now (so that its start-up is not counted as time on the network) and returns
// a client that sends every request through it. Fails with kNotFound / kPermissionDenied when the
// executable is missing or not executable, kUnavailable when it does not say hello within
// start_timeout or speaks another version; the message names the path.
// Send: the curl client's results, errors included (kUnavailable, kDeadlineExceeded,
// kInvalidInput, kRejected), carried back unchanged. When the helper does not answer within the
// request's timeout plus grace it is killed (kDeadlineExceeded); when it dies (kUnavailable, with
// its exit status) the next Send starts a new one. Destroying the client ends the helper and
// reaps it. Thread-compatible, like every HttpClient.
Result<std::unique_ptr<HttpClient>> StartHttpHelper(const HttpHelperOptions& options);

// A helper process spawned but not yet heard from: its pid and the daemon's end of its socket.
struct HttpHelperProcess {
  pid_t pid = -1;
  int fd = -1;
  int error = 0;  // the errno of a spawn that failed (pid and fd are then -1)
};

// Spawns the helper at `path` with its end of a new socketpair as fd 3, no signal blocked and
// every disposition default. It calls the C library only, so that it can run before any
// constructor: cvm-agentd spawns its first helper from .preinit_array (agent/main.cc), ahead of
// the libraries' constructors and its own start-up.
HttpHelperProcess SpawnHttpHelperProcess(const char* path, bool keep_alive, char* const envp[]);

// A helper started ahead of need, so that it loads (exec, libcurl and its libraries, about 4 ms
// of CPU) while the daemon opens its TEE, TPM and sockets instead of at the first exchange.
// Thread-safe.
class HttpHelperLauncher {
 public:
  // Spawns one helper now and returns without waiting for it.
  explicit HttpHelperLauncher(HttpHelperOptions options);
  // Takes over a helper SpawnHttpHelperProcess started from options.path and options.keep_alive
  // (a failed spawn is reported by the first Take).
  HttpHelperLauncher(HttpHelperOptions options, HttpHelperProcess spawned);
  ~HttpHelperLauncher();
  HttpHelperLauncher(const HttpHelperLauncher&) = delete;
  HttpHelperLauncher& operator=(const HttpHelperLauncher&) = delete;
  // The first call: the helper spawned at construction, once it said hello (its spawn's or its
  // start's error otherwise, as StartHttpHelper's). Every later call: StartHttpHelper.
  Result<std::unique_ptr<HttpClient>> Take();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// What the helpers of this process cost: how many were started and reaped, and the CPU time
// (user + system) of those reaped, for /metrics and the benchmarks.
struct HttpHelperStats {
  uint64_t started = 0;
  uint64_t reaped = 0;
  std::chrono::microseconds cpu{0};
};
HttpHelperStats GetHttpHelperStats();

// The helper's side: says hello on `fd`, then answers each request frame through `http` until
// the other end closes. Returns 0 at end of file, 1 on a broken frame or a failed write (the
// daemon then sees the helper exit).
int ServeHttpHelper(int fd, HttpClient& http);

// The frames' payloads, exposed for the tests and the fuzz target. Decoding refuses, with
// kInvalidInput naming the member, anything but the exact shape the encoder writes.
Bytes EncodeHttpHelperRequest(const HttpRequest& request);
Result<HttpRequest> DecodeHttpHelperRequest(ByteSpan cbor);
// A result is a response or the error that prevented one.
Bytes EncodeHttpHelperResult(const Result<HttpResponse>& result);
// kInvalidInput for a malformed frame; otherwise the result it carries (which may be an error).
Result<HttpResponse> DecodeHttpHelperResult(ByteSpan cbor);

}  // namespace cvm
