#include "common/http_helper.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace cvm {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// ---- payloads -------------------------------------------------------------------------------

json HeadersJson(const std::vector<std::pair<std::string, std::string>>& headers) {
  json out = json::array();
  for (const auto& [name, value] : headers) out.push_back(json::array({name, value}));
  return out;
}

Bytes ToCbor(const json& j) {
  Bytes out;
  json::to_cbor(j, out);
  return out;
}

// Reads the members of one decoded map, each checked for its type; the first problem is kept
// and names the member, so a decoder reads straight through and checks once at the end.
class Reader {
 public:
  Reader(const json& j, std::string_view what) : j_(j), what_(what) {
    if (!j_.is_object()) Fail(std::string(what) + " is not a map");
  }
  const json* Member(const char* name, bool (json::*is)() const noexcept, const char* type,
                     bool optional = false) {
    if (!status_.ok()) return nullptr;
    auto it = j_.find(name);
    if (it == j_.end()) {
      if (!optional) Fail(what_ + ": no " + name);
      return nullptr;
    }
    if (!((*it).*is)()) {
      Fail(what_ + ": " + name + " is not " + type);
      return nullptr;
    }
    return &*it;
  }
  std::string String(const char* name) {
    const json* v = Member(name, &json::is_string, "a string");
    return v ? v->get<std::string>() : std::string();
  }
  int64_t Integer(const char* name, int64_t min, int64_t max) {
    const json* v = Member(name, &json::is_number_integer, "an integer");
    if (v == nullptr) return min;
    int64_t n = v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX)
                    ? INT64_MAX
                    : v->get<int64_t>();
    if (n < min || n > max) {
      Fail(what_ + ": " + name + " " + std::to_string(n) + " is out of range");
      return min;
    }
    return n;
  }
  Bytes Binary(const char* name) {
    const json* v = Member(name, &json::is_binary, "a byte string");
    return v ? Bytes(v->get_binary().begin(), v->get_binary().end()) : Bytes();
  }
  std::vector<std::pair<std::string, std::string>> Headers(const char* name) {
    std::vector<std::pair<std::string, std::string>> out;
    const json* v = Member(name, &json::is_array, "an array");
    if (v == nullptr) return out;
    for (const auto& h : *v) {
      if (!h.is_array() || h.size() != 2 || !h[0].is_string() || !h[1].is_string()) {
        Fail(what_ + ": " + name + " holds an entry that is not [name, value]");
        return out;
      }
      out.emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
    }
    return out;
  }
  void Fail(std::string message) {
    if (status_.ok()) status_ = InvalidInput("HTTP helper frame: " + std::move(message));
  }
  const Status& status() const { return status_; }

 private:
  const json& j_;
  std::string what_;
  Status status_;
};

// Builds a frame's document from nlohmann's CBOR SAX events, refusing what no frame holds:
// nesting deeper than a frame's three levels (the map, the headers, one header), a container
// announcing more entries than kMaxEntries, a repeated key. The daemon reads what the helper, the
// process that talks to the network, writes: a frame must not recurse the parser deep, make it
// reserve a huge container (json::from_cbor throws out_of_range for that even with
// allow_exceptions false; fuzz_http_helper found it) or hide a second value under one key.
class FrameSax {
 public:
  static constexpr size_t kMaxDepth = 3;
  static constexpr size_t kMaxEntries = 1 << 16;

  bool null() { return Add(nullptr); }
  bool boolean(bool v) { return Add(v); }
  bool number_integer(json::number_integer_t v) { return Add(v); }
  bool number_unsigned(json::number_unsigned_t v) { return Add(v); }
  bool number_float(json::number_float_t v, const std::string& /*text*/) { return Add(v); }
  bool string(std::string& v) { return Add(std::move(v)); }
  bool binary(json::binary_t& v) {
    return Add(json::binary(std::move(static_cast<json::binary_t::container_type&>(v))));
  }
  bool start_object(size_t n) { return Open(json::object(), n); }
  bool key(std::string& k) {
    key_ = std::move(k);
    return !stack_.back()->contains(key_);
  }
  bool end_object() { return Close(); }
  bool start_array(size_t n) { return Open(json::array(), n); }
  bool end_array() { return Close(); }
  bool parse_error(size_t /*position*/, const std::string& /*token*/,
                   const json::exception& /*error*/) {
    return false;
  }

  json root;

 private:
  // Adds `v` where the parser is; returns it.
  json* Place(json v) {
    if (stack_.empty()) {
      root = std::move(v);
      return &root;
    }
    json& top = *stack_.back();
    if (top.is_array()) {
      top.push_back(std::move(v));
      return &top.back();
    }
    return &(top[key_] = std::move(v));
  }
  bool Add(json v) {
    if (stack_.empty() && !root.is_null()) return false;  // a second document
    Place(std::move(v));
    return true;
  }
  bool Open(json container, size_t n) {
    if (stack_.size() >= kMaxDepth) return false;
    if (n != static_cast<size_t>(-1) && n > kMaxEntries) return false;
    stack_.push_back(Place(std::move(container)));
    return true;
  }
  bool Close() {
    if (stack_.empty()) return false;
    stack_.pop_back();
    return true;
  }

  std::vector<json*> stack_;  // the open containers, innermost last
  std::string key_;
};

Result<json> FromCbor(ByteSpan cbor) {
  FrameSax sax;
  bool ok = false;
  try {
    ok = json::sax_parse(cbor.begin(), cbor.end(), &sax, json::input_format_t::cbor,
                         /*strict=*/true);
  } catch (const json::exception&) {
    ok = false;
  }
  if (!ok) return InvalidInput("HTTP helper frame: not CBOR of a frame's shape");
  return std::move(sax.root);
}

// ---- frames ---------------------------------------------------------------------------------

Status WriteAll(int fd, const uint8_t* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "HTTP helper socket");
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status WriteFrame(int fd, const Bytes& payload) {
  if (payload.size() > kHttpHelperMaxFrame) {
    return InvalidInput("HTTP helper frame of " + std::to_string(payload.size()) +
                        " bytes is over the limit");
  }
  const uint32_t n = static_cast<uint32_t>(payload.size());
  const uint8_t length[4] = {uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)};
  CVM_RETURN_IF_ERROR(WriteAll(fd, length, sizeof length));
  return WriteAll(fd, payload.data(), payload.size());
}

// Where a read met the end of the file (the other side closed its socket, or exited).
enum class Closed { kNo, kBetweenFrames, kInFrame };

// Reads exactly `size` bytes before `deadline` (nullopt: no deadline). kDeadlineExceeded when
// it passes; kUnavailable at end of file, with `*closed` set (kBetweenFrames when nothing was
// read and `at_frame_start`).
Status ReadExact(int fd, uint8_t* data, size_t size, std::optional<Clock::time_point> deadline,
                 bool at_frame_start, Closed* closed) {
  size_t done = 0;
  while (done < size) {
    if (deadline) {
      auto left = std::chrono::duration_cast<milliseconds>(*deadline - Clock::now()).count();
      if (left <= 0) return DeadlineExceeded("no answer in time");
      pollfd p{fd, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, INT32_MAX)));
      if (r < 0 && errno != EINTR) return ErrnoStatus(errno, "HTTP helper socket");
      if (r <= 0) continue;
    }
    ssize_t n = ::recv(fd, data + done, size - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "HTTP helper socket");
    }
    if (n == 0) {
      *closed = at_frame_start && done == 0 ? Closed::kBetweenFrames : Closed::kInFrame;
      return Unavailable("closed");
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Reads one frame of at most `max` bytes (the limit is checked before anything is allocated).
Result<Bytes> ReadFrame(int fd, std::optional<Clock::time_point> deadline, Closed* closed,
                        size_t max = kHttpHelperMaxFrame) {
  *closed = Closed::kNo;
  uint8_t length[4];
  CVM_RETURN_IF_ERROR(ReadExact(fd, length, sizeof length, deadline, true, closed));
  const size_t n = LoadBe32(length, 0);
  if (n > max) {
    return InvalidInput("HTTP helper frame of " + std::to_string(n) + " bytes is over the limit");
  }
  Bytes payload(n);
  CVM_RETURN_IF_ERROR(ReadExact(fd, payload.data(), n, deadline, false, closed));
  return payload;
}

// Separates the frame's own problems (the status, kInvalidInput) from the result it carries,
// which may itself be an error (*out).
Status DecodeResultFrame(ByteSpan cbor, std::optional<Result<HttpResponse>>* out) {
  CVM_ASSIGN_OR_RETURN(json j, FromCbor(cbor));
  if (j.is_object() && j.contains("error")) {
    const json& e = j["error"];
    Reader in(e, "error");
    int64_t code = in.Integer("code", static_cast<int64_t>(Code::kInvalidInput),
                              static_cast<int64_t>(Code::kInternal));
    std::string message = in.String("message");
    if (j.size() != 1 || (e.is_object() && e.size() != 2)) in.Fail("error: unknown members");
    CVM_RETURN_IF_ERROR(in.status());
    out->emplace(Status(static_cast<Code>(code), std::move(message)));
    return Status::Ok();
  }
  Reader in(j, "response");
  HttpResponse r;
  r.status = static_cast<int>(in.Integer("status", 100, 999));
  r.headers = in.Headers("headers");
  r.body = in.Binary("body");
  if (j.is_object() && j.size() != 3) in.Fail("response: unknown members");
  CVM_RETURN_IF_ERROR(in.status());
  out->emplace(std::move(r));
  return Status::Ok();
}

// ---- the daemon's side ----------------------------------------------------------------------

std::atomic<uint64_t> g_started{0};
std::atomic<uint64_t> g_reaped{0};
std::atomic<uint64_t> g_cpu_us{0};

std::string DescribeExit(int wstatus) {
  if (WIFEXITED(wstatus)) return "exit status " + std::to_string(WEXITSTATUS(wstatus));
  if (WIFSIGNALED(wstatus)) return "signal " + std::to_string(WTERMSIG(wstatus));
  return "status " + std::to_string(wstatus);
}

class HelperHttpClient final : public HttpClient {
 public:
  explicit HelperHttpClient(HttpHelperOptions options) : options_(std::move(options)) {}
  ~HelperHttpClient() override { Stop(/*kill_now=*/false); }
  HelperHttpClient(const HelperHttpClient&) = delete;
  HelperHttpClient& operator=(const HelperHttpClient&) = delete;

  Status Start() {
    CVM_RETURN_IF_ERROR(Spawn());
    return AwaitHello();
  }

  // Starts the helper process without waiting for it (AwaitHello does).
  Status Spawn() {
    return Adopt(SpawnHttpHelperProcess(options_.path.c_str(), options_.keep_alive, environ));
  }

  // Takes over a helper spawned by SpawnHttpHelperProcess.
  Status Adopt(HttpHelperProcess spawned) {
    if (spawned.pid <= 0) {
      return ErrnoStatus(spawned.error != 0 ? spawned.error : EINVAL,
                         "HTTP helper " + options_.path);
    }
    g_started.fetch_add(1, std::memory_order_relaxed);
    pid_ = spawned.pid;
    fd_ = spawned.fd;
    hello_pending_ = true;
    return Status::Ok();
  }

  // Waits for the hello of the helper Spawn started (no-op once it came).
  Status AwaitHello() {
    if (!hello_pending_) return Status::Ok();
    hello_pending_ = false;
    Closed closed = Closed::kNo;
    auto hello = ReadFrame(fd_, Clock::now() + options_.start_timeout, &closed, 4096);
    Status bad;
    if (!hello.ok()) {
      bad = hello.status();
    } else {
      auto j = FromCbor(*hello);
      if (!j.ok() || !j->is_object() || j->value("hello", "") != "cvm-agent-http") {
        bad = Unavailable("it did not say hello");
      } else if (j->value("version", 0) != kHttpHelperVersion) {
        bad = Unavailable("it speaks version " + std::to_string(j->value("version", 0)) +
                          ", this daemon " + std::to_string(kHttpHelperVersion) +
                          " (a partial upgrade?)");
      }
    }
    if (bad.ok()) return Status::Ok();
    std::string exit = Stop(/*kill_now=*/closed != Closed::kBetweenFrames);
    Code code = bad.code() == Code::kDeadlineExceeded ? Code::kUnavailable : bad.code();
    return Status(code, "HTTP helper " + options_.path + " did not start: " +
                            (closed != Closed::kNo ? "it exited (" + exit + ")" : bad.message()));
  }

  Result<HttpResponse> Send(const HttpRequest& request) override {
    if (fd_ < 0) CVM_RETURN_IF_ERROR(Start().WithContext(request.url));
    CVM_RETURN_IF_ERROR(AwaitHello().WithContext(request.url));
    if (Status sent = WriteFrame(fd_, EncodeHttpHelperRequest(request)); !sent.ok()) {
      // It died since its last answer (or its socket broke): the next request starts another.
      std::string exit = Stop(/*kill_now=*/true);
      return Unavailable(request.url + ": the HTTP helper could not be sent the request (" +
                         sent.message() + "; " + exit + ")");
    }
    const auto deadline = Clock::now() + request.timeout + options_.grace;
    // The body's own limit, and room for the status, the headers and the encoding.
    Closed closed = Closed::kNo;
    auto frame = ReadFrame(fd_, deadline, &closed,
                           std::min(kHttpHelperMaxFrame, request.max_response_bytes + (1u << 20)));
    if (!frame.ok()) {
      if (frame.status().code() == Code::kDeadlineExceeded) {
        Stop(/*kill_now=*/true);
        return DeadlineExceeded(request.url + ": the HTTP helper did not answer within " +
                                std::to_string((request.timeout + options_.grace).count()) +
                                " ms and was stopped");
      }
      std::string exit = Stop(/*kill_now=*/closed == Closed::kNo);
      return Unavailable(request.url + ": the HTTP helper " +
                         (closed != Closed::kNo
                              ? "exited (" + exit + ")"
                              : "failed and was stopped: " + frame.status().ToString()));
    }
    std::optional<Result<HttpResponse>> result;
    if (Status frame_ok = DecodeResultFrame(*frame, &result); !frame_ok.ok()) {
      Stop(/*kill_now=*/true);  // out of step with this side: its next frame cannot be trusted
      return Internal(request.url + ": " + frame_ok.message());
    }
    if (result->ok() && (*result)->body.size() > request.max_response_bytes) {
      Stop(/*kill_now=*/true);
      return Internal(request.url + ": the HTTP helper returned more than max_response_bytes");
    }
    return std::move(*result);
  }

 private:
  // Ends the helper (closing its socket makes it exit; `kill_now` does not wait for that) and
  // reaps it. Returns how it ended.
  std::string Stop(bool kill_now) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (pid_ <= 0) return "";
    int wstatus = 0;
    if (kill_now) ::kill(pid_, SIGKILL);
    const auto until = Clock::now() + std::chrono::seconds(2);
    // Readable when the helper exits: the wait ends then, not at the next 1 ms tick (the end of
    // an exchange waits here before its secrets are delivered). -1 on kernels before 5.3. (The
    // system call itself: glibc 2.36's <sys/pidfd.h> does not declare pidfd_open extern "C".)
    const int exited = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    while (true) {
      struct rusage usage {};
      pid_t r = ::wait4(pid_, &wstatus, kill_now ? 0 : WNOHANG, &usage);
      if (r == pid_) {
        auto us = [](const timeval& t) { return int64_t(t.tv_sec) * 1000000 + t.tv_usec; };
        g_reaped.fetch_add(1, std::memory_order_relaxed);
        g_cpu_us.fetch_add(static_cast<uint64_t>(us(usage.ru_utime) + us(usage.ru_stime)),
                           std::memory_order_relaxed);
        break;
      }
      if (r < 0 && errno != EINTR) {
        wstatus = -1;
        break;
      }
      if (r == 0 && Clock::now() >= until) {
        ::kill(pid_, SIGKILL);
        kill_now = true;
      }
      if (r != 0) continue;
      if (exited >= 0) {
        auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now()).count();
        pollfd p{exited, POLLIN, 0};
        ::poll(&p, 1, kill_now ? -1 : static_cast<int>(std::clamp<int64_t>(left, 1, 2000)));
      } else {
        std::this_thread::sleep_for(milliseconds(1));
      }
    }
    if (exited >= 0) ::close(exited);
    pid_ = -1;
    return wstatus == -1 ? "not reaped" : DescribeExit(wstatus);
  }

  HttpHelperOptions options_;
  pid_t pid_ = -1;
  int fd_ = -1;
  bool hello_pending_ = false;
};

}  // namespace

Bytes EncodeHttpHelperRequest(const HttpRequest& r) {
  json j = {{"method", r.method},
            {"url", r.url},
            {"headers", HeadersJson(r.headers)},
            {"body", json::binary(r.body)},
            {"timeout_ms", r.timeout.count()},
            {"connect_timeout_ms", r.connect_timeout.count()},
            {"max_response_bytes", r.max_response_bytes},
            {"ca_file", r.ca_file},
            {"pinned_spki_sha256", r.pinned_spki_sha256},
            {"unix_socket", r.unix_socket}};
  if (r.proxy) j["proxy"] = *r.proxy;
  return ToCbor(j);
}

Result<HttpRequest> DecodeHttpHelperRequest(ByteSpan cbor) {
  CVM_ASSIGN_OR_RETURN(json j, FromCbor(cbor));
  Reader in(j, "request");
  HttpRequest r;
  r.method = in.String("method");
  r.url = in.String("url");
  r.headers = in.Headers("headers");
  r.body = in.Binary("body");
  constexpr int64_t kDay = 24LL * 3600 * 1000;
  r.timeout = milliseconds(in.Integer("timeout_ms", 1, kDay));
  r.connect_timeout = milliseconds(in.Integer("connect_timeout_ms", 1, kDay));
  r.max_response_bytes = static_cast<size_t>(
      in.Integer("max_response_bytes", 0, static_cast<int64_t>(kHttpHelperMaxFrame / 2)));
  r.ca_file = in.String("ca_file");
  r.pinned_spki_sha256 = in.String("pinned_spki_sha256");
  r.unix_socket = in.String("unix_socket");
  if (const json* proxy = in.Member("proxy", &json::is_string, "a string", /*optional=*/true)) {
    r.proxy = proxy->get<std::string>();
  }
  if (j.is_object() && j.size() != 10u + (r.proxy ? 1 : 0)) in.Fail("request: unknown members");
  if (!in.status().ok()) return in.status();
  return r;
}

Bytes EncodeHttpHelperResult(const Result<HttpResponse>& result) {
  if (!result.ok()) {
    return ToCbor({{"error",
                    {{"code", static_cast<int>(result.status().code())},
                     {"message", result.status().ToString()}}}});
  }
  return ToCbor({{"status", result->status},
                 {"headers", HeadersJson(result->headers)},
                 {"body", json::binary(result->body)}});
}

Result<HttpResponse> DecodeHttpHelperResult(ByteSpan cbor) {
  std::optional<Result<HttpResponse>> result;
  CVM_RETURN_IF_ERROR(DecodeResultFrame(cbor, &result));
  return std::move(*result);
}

HttpHelperProcess SpawnHttpHelperProcess(const char* path, bool keep_alive, char* const envp[]) {
  HttpHelperProcess out;
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    out.error = errno;
    return out;
  }
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  // fd 3 in the helper (dup2 clears close-on-exec; every other descriptor of this process is
  // close-on-exec or closed by the helper, see agent/http_helper_main.cc).
  posix_spawn_file_actions_adddup2(&actions, sv[1], kHttpHelperFd);
  // The daemon blocks the signals its signal thread takes; the helper starts with none blocked
  // and default dispositions.
  sigset_t none;
  sigset_t defaults;
  sigemptyset(&none);
  sigfillset(&defaults);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  char arg0[] = "cvm-agent-http";
  char keep[] = "--keep-alive";
  char* argv[] = {arg0, keep_alive ? keep : nullptr, nullptr};
  pid_t pid = -1;
  int err = ::posix_spawn(&pid, path, &actions, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(sv[1]);
  if (err != 0) {
    ::close(sv[0]);
    out.error = err;
    return out;
  }
  out.pid = pid;
  out.fd = sv[0];
  return out;
}

Result<std::unique_ptr<HttpClient>> StartHttpHelper(const HttpHelperOptions& options) {
  if (options.path.empty()) return InvalidInput("no HTTP helper path");
  if (::access(options.path.c_str(), X_OK) != 0) {
    return ErrnoStatus(errno, "HTTP helper " + options.path);
  }
  auto client = std::make_unique<HelperHttpClient>(options);
  CVM_RETURN_IF_ERROR(client->Start());
  return std::unique_ptr<HttpClient>(std::move(client));
}

HttpHelperStats GetHttpHelperStats() {
  HttpHelperStats s;
  s.started = g_started.load(std::memory_order_relaxed);
  s.reaped = g_reaped.load(std::memory_order_relaxed);
  s.cpu = std::chrono::microseconds(g_cpu_us.load(std::memory_order_relaxed));
  return s;
}

struct HttpHelperLauncher::State {
  HttpHelperOptions options;
  std::mutex mu;
  std::unique_ptr<HelperHttpClient> first;  // guarded by mu; null once the first Take had it
  Status spawned;                           // the first spawn's failure, reported by Take
};

HttpHelperLauncher::HttpHelperLauncher(HttpHelperOptions options)
    : HttpHelperLauncher(
          options, SpawnHttpHelperProcess(options.path.c_str(), options.keep_alive, environ)) {}

HttpHelperLauncher::HttpHelperLauncher(HttpHelperOptions options, HttpHelperProcess spawned)
    : state_(std::make_unique<State>()) {
  state_->options = std::move(options);
  state_->first = std::make_unique<HelperHttpClient>(state_->options);
  state_->spawned = state_->first->Adopt(spawned);
}

HttpHelperLauncher::~HttpHelperLauncher() = default;

Result<std::unique_ptr<HttpClient>> HttpHelperLauncher::Take() {
  std::unique_ptr<HelperHttpClient> first;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    first = std::move(state_->first);
  }
  if (!first) return StartHttpHelper(state_->options);
  CVM_RETURN_IF_ERROR(state_->spawned);
  CVM_RETURN_IF_ERROR(first->AwaitHello());
  return std::unique_ptr<HttpClient>(std::move(first));
}

int ServeHttpHelper(int fd, HttpClient& http) {
  if (!WriteFrame(fd, ToCbor({{"hello", "cvm-agent-http"}, {"version", kHttpHelperVersion}}))
           .ok()) {
    return 1;
  }
  while (true) {
    Closed closed = Closed::kNo;
    auto frame = ReadFrame(fd, std::nullopt, &closed);
    if (!frame.ok()) return closed == Closed::kBetweenFrames ? 0 : 1;
    auto request = DecodeHttpHelperRequest(*frame);
    // A request it cannot read is answered (the daemon's bug, reported to it), not fatal.
    Result<HttpResponse> result = request.ok() ? http.Send(*request) : request.status();
    if (!WriteFrame(fd, EncodeHttpHelperResult(result)).ok()) return 1;
  }
}

}  // namespace cvm
