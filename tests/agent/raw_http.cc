// Includes Boost.Beast (for its response parser only).
#include "tests/agent/raw_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

// GCC 12 -O2 reports boost::optional<size_t> in Beast's response parser (content_length) as
// maybe-uninitialized: a known false positive of that pairing, silenced for this file only.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <utility>

namespace cvm::agent::testing {

namespace http = boost::beast::http;

Conn Conn::Unix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (fd < 0 || path.size() >= sizeof(a.sun_path)) return Conn(fd);
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return Conn();
  }
  return Conn(fd);
}

Conn Conn::Tcp(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Conn();
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return Conn();
  }
  return Conn(fd);
}

Conn& Conn::operator=(Conn&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

Conn::~Conn() {
  if (fd_ >= 0) ::close(fd_);
}

bool Conn::Send(const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool Conn::ClosedWithin(std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  char buf[4096];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return true;  // EOF or reset: closed; data (an error answer) is read past
  }
}

RawResponse ReadResponse(Conn& conn, std::chrono::milliseconds limit) {
  RawResponse out;
  if (!conn.ok()) {
    out.error = "not connected";
    return out;
  }
  std::string data;
  auto end = std::chrono::steady_clock::now() + limit;
  bool eof = false;
  while (true) {
    // Parse what has arrived so far with a fresh parser (responses here are small).
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.body_limit(16u << 20);
    boost::beast::error_code ec;
    size_t off = 0;
    while (off < data.size() && !parser.is_done()) {
      size_t n = parser.put(boost::asio::buffer(data.data() + off, data.size() - off), ec);
      off += n;
      if (ec == http::error::need_more) {
        ec = {};
        break;
      }
      if (ec || n == 0) break;
    }
    if (!ec && eof && !parser.is_done() && parser.is_header_done()) parser.put_eof(ec);
    if (ec && ec != http::error::need_more) {
      out.error = "unparsable response: " + ec.message();
      return out;
    }
    if (parser.is_done()) {
      out.status = static_cast<int>(parser.get().result_int());
      out.body = parser.get().body();
      return out;
    }
    if (eof) {
      out.error = "connection closed after " + std::to_string(data.size()) + " bytes";
      return out;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      out.error = "timed out";
      return out;
    }
    pollfd p{conn.fd(), POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) continue;
    char buf[16384];
    ssize_t n = ::recv(conn.fd(), buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof = true;
    } else {
      data.append(buf, static_cast<size_t>(n));
    }
  }
}

RawResponse ExchangeUnix(const std::string& socket, const std::string& request) {
  Conn c = Conn::Unix(socket);
  c.Send(request);  // a server may answer (413, 431) before reading everything
  return ReadResponse(c);
}

RawResponse ExchangeTcp(uint16_t port, const std::string& request) {
  Conn c = Conn::Tcp(port);
  c.Send(request);
  return ReadResponse(c);
}

std::string Get(const std::string& target, const std::string& extra_headers) {
  return "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra_headers +
         "Connection: close\r\n\r\n";
}

std::string FullChallengeResponse() {
  const std::string body = "{\"nonce\": \"" + std::string(256, 'x') + "\"}";
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

BrokenServer::BrokenServer(std::string answer) : answer_(std::move(answer)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    return;  // port() stays 0: the test's REQUIRE on it fails
  }
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { Loop(); });
}

BrokenServer::~BrokenServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void BrokenServer::Loop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    // Read the request's header block (bounded in time), answer part of a response, close.
    std::string request;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (request.find("\r\n\r\n") == std::string::npos &&
           std::chrono::steady_clock::now() < end && !stop_) {
      pollfd q{fd, POLLIN, 0};
      if (::poll(&q, 1, 20) <= 0) continue;
      char buf[4096];
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      request.append(buf, static_cast<size_t>(n));
    }
    if (::send(fd, answer_.data(), answer_.size(), MSG_NOSIGNAL) >= 0) ++served_;
    // FIN after the answer (not a reset from unread request bytes): drain, then close.
    ::shutdown(fd, SHUT_WR);
    for (int i = 0; i < 10; ++i) {
      pollfd q{fd, POLLIN, 0};
      if (::poll(&q, 1, 10) <= 0) continue;
      char buf[4096];
      if (::recv(fd, buf, sizeof(buf), 0) <= 0) break;
    }
    ::close(fd);
  }
}

}  // namespace cvm::agent::testing
