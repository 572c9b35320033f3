// A raw HTTP/1.1 client for abuse tests: connects over a unix or TCP socket, sends the bytes a
// test wrote by hand (oversized headers, "../" paths sent as they are, partial requests), and
// reads one response with Boost.Beast's parser within a time limit. Also a tiny fake server that
// answers every request with a truncated response and closes, for relying-party faults.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

namespace cvm::agent::testing {

// A connected stream socket, closed on destruction; -1 when the connection failed.
class Conn {
 public:
  static Conn Unix(const std::string& path);
  static Conn Tcp(uint16_t port);  // 127.0.0.1
  Conn() = default;
  explicit Conn(int fd) : fd_(fd) {}
  Conn(Conn&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Conn& operator=(Conn&& other) noexcept;
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // Sends all of `bytes` (MSG_NOSIGNAL); false when the peer closed or it failed.
  bool Send(const std::string& bytes);
  // Whether the peer has closed the connection (a read returns EOF or an error) within `limit`.
  bool ClosedWithin(std::chrono::milliseconds limit);

 private:
  int fd_ = -1;
};

struct RawResponse {
  int status = 0;  // 0: no complete response (closed, timed out or unparsable)
  std::string body;
  std::string error;
};

// Reads one response from `conn` within `limit`.
RawResponse ReadResponse(Conn& conn, std::chrono::milliseconds limit = std::chrono::seconds(10));
// Connects, sends `request`, reads the response.
RawResponse ExchangeUnix(const std::string& socket, const std::string& request);
RawResponse ExchangeTcp(uint16_t port, const std::string& request);
// "GET <target> HTTP/1.1" with Host and Connection: close.
std::string Get(const std::string& target, const std::string& extra_headers = "");

// A 200 response whose Content-Length promises 270 bytes of JSON body.
std::string FullChallengeResponse();

// Listens on 127.0.0.1:<port> and answers every connection, once it has read a request's header
// block, with exactly `answer` (e.g. the first bytes of FullChallengeResponse(), or garbage),
// then closes the connection. Stopped (and its thread joined) on destruction.
class BrokenServer {
 public:
  explicit BrokenServer(std::string answer);
  ~BrokenServer();
  BrokenServer(const BrokenServer&) = delete;
  BrokenServer& operator=(const BrokenServer&) = delete;

  uint16_t port() const { return port_; }
  // Connections answered so far.
  int served() const { return served_.load(); }

 private:
  void Loop();

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::string answer_;
  std::atomic<bool> stop_{false};
  std::atomic<int> served_{0};
  std::thread thread_;
};

}  // namespace cvm::agent::testing
