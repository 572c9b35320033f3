// The only translation unit with Boost.Beast (compiling it costs ~40 s).
#include "agent/api_server.h"

#include <openssl/crypto.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "common/args.h"
#include "common/file_util.h"
#include "common/log.h"

namespace cvm::agent {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local = asio::local::stream_protocol;
using tcp = asio::ip::tcp;

class Server;

// One connection. All its handlers run on its strand.
template <typename Socket>
class Session : public std::enable_shared_from_this<Session<Socket>> {
 public:
  Session(Server& server, Socket socket, std::optional<PeerCred> peer, bool over_tcp);
  ~Session();
  void Start() { Read(); }

 private:
  void Read();
  void OnRead(beast::error_code ec);
  void Respond(ApiResponse response, bool keep_alive, unsigned version);
  void OnWrite(beast::error_code ec, bool keep_alive);
  void ArmTimer();
  void Close();

  Server& server_;
  Socket socket_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::string_body>> response_;
  bool response_secret_ = false;
  std::optional<PeerCred> peer_;
  bool over_tcp_;
};

class Server final : public ApiServer {
 public:
  Server(const ApiServerOptions& options, ApiHandler& handler)
      : options_(options),
        handler_(handler),
        workers_(static_cast<size_t>(std::max(1, options.worker_threads))),
        local_acceptor_(ioc_),
        tcp_acceptor_(ioc_) {}
  ~Server() override { Stop(); }

  Status Listen() {
    beast::error_code ec;
    if (options_.unix_fd >= 0) {
      local_acceptor_.assign(local(), options_.unix_fd, ec);
      if (ec) return IoError("adopting the API socket: " + ec.message());
    } else if (!options_.unix_path.empty()) {
      const std::string& path = options_.unix_path;
      size_t slash = path.rfind('/');
      if (slash != std::string::npos && slash > 0) {
        CVM_RETURN_IF_ERROR(MakeDirs(path.substr(0, slash), 0755));
      }
      struct stat st {};
      if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) return InvalidInput(path + " exists and is not a socket");
        ::unlink(path.c_str());
      }
      local_acceptor_.open(local(), ec);
      if (!ec) local_acceptor_.bind(local::endpoint(path), ec);
      if (!ec) local_acceptor_.listen(asio::socket_base::max_listen_connections, ec);
      if (ec) return IoError("API socket " + path + ": " + ec.message());
      if (::chmod(path.c_str(), options_.unix_mode) != 0) {
        return ErrnoStatus(errno, "chmod " + path);
      }
      created_path_ = path;
    }
    if (options_.tcp_fd >= 0) {
      tcp_acceptor_.assign(tcp::v4(), options_.tcp_fd, ec);
      if (ec) return IoError("adopting the API TCP socket: " + ec.message());
    } else if (options_.tcp_port) {
      tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), *options_.tcp_port);
      tcp_acceptor_.open(ep.protocol(), ec);
      if (!ec) tcp_acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) tcp_acceptor_.bind(ep, ec);
      if (!ec) tcp_acceptor_.listen(asio::socket_base::max_listen_connections, ec);
      if (ec) {
        return IoError("API TCP 127.0.0.1:" + std::to_string(*options_.tcp_port) + ": " +
                       ec.message());
      }
    }
    if (tcp_acceptor_.is_open()) tcp_port_ = tcp_acceptor_.local_endpoint().port();
    if (local_acceptor_.is_open()) AcceptLocal();
    if (tcp_acceptor_.is_open()) AcceptTcp();
    for (int i = 0; i < std::max(1, options_.io_threads); ++i) {
      threads_.emplace_back([this] { ioc_.run(); });
    }
    return Status::Ok();
  }

  uint16_t tcp_port() const override { return tcp_port_; }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    asio::post(ioc_, [this] {
      beast::error_code ec;
      local_acceptor_.close(ec);
      tcp_acceptor_.close(ec);
    });
    ioc_.stop();
    for (auto& t : threads_) t.join();
    workers_.join();
    if (!created_path_.empty()) ::unlink(created_path_.c_str());
  }

  const ApiServerOptions& options() const { return options_; }
  ApiHandler& handler() { return handler_; }
  asio::thread_pool& workers() { return workers_; }
  std::atomic<size_t>& connections() { return connections_; }

 private:
  bool Admit() {
    if (connections_.load() >= options_.max_connections) return false;
    return true;
  }

  // A connection refused at the limit. Reported at most once per 10 s with a count, so that a
  // flood of connections does not become a flood of log lines.
  void NoteRefused() {
    size_t refused = ++refused_;
    auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> lock(refused_mu_);
      if (now < next_refused_report_) return;
      next_refused_report_ = now + std::chrono::seconds(10);
    }
    refused_ -= refused;
    log::Warning("API: connection limit (" + std::to_string(options_.max_connections) +
                 ") reached; closed " + std::to_string(refused) +
                 " new connection(s) since the last report");
  }

  void AcceptLocal() {
    local_acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec,
                                                                 local::socket socket) {
      if (ec == asio::error::operation_aborted || !local_acceptor_.is_open()) return;
      if (!ec) {
        if (!Admit()) {
          NoteRefused();
        } else {
          std::optional<PeerCred> peer;
          ucred cred{};
          socklen_t len = sizeof(cred);
          if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
            peer = PeerCred{cred.pid, cred.uid, cred.gid};
          }
          std::make_shared<Session<local::socket>>(*this, std::move(socket), peer, false)->Start();
        }
      }
      AcceptLocal();
    });
  }

  void AcceptTcp() {
    tcp_acceptor_.async_accept(
        asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
          if (ec == asio::error::operation_aborted || !tcp_acceptor_.is_open()) return;
          if (!ec) {
            beast::error_code ignored;
            auto remote = socket.remote_endpoint(ignored);
            // Bound to 127.0.0.1, but an inherited socket may not be: refuse anything not loopback.
            if (ignored || !remote.address().is_loopback()) {
              log::Warning("API: refused a non-loopback TCP peer");
            } else if (!Admit()) {
              NoteRefused();
            } else {
              std::make_shared<Session<tcp::socket>>(*this, std::move(socket), std::nullopt, true)
                  ->Start();
            }
          }
          AcceptTcp();
        });
  }

  ApiServerOptions options_;
  ApiHandler& handler_;
  // Declared before the I/O context: sessions still queued in it decrement it when it goes.
  std::atomic<size_t> connections_{0};
  asio::io_context ioc_;
  asio::thread_pool workers_;
  local::acceptor local_acceptor_;
  tcp::acceptor tcp_acceptor_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopped_{false};
  std::atomic<size_t> refused_{0};
  std::mutex refused_mu_;
  std::chrono::steady_clock::time_point next_refused_report_;  // guarded by refused_mu_
  uint16_t tcp_port_ = 0;
  std::string created_path_;
};

template <typename Socket>
Session<Socket>::Session(Server& server, Socket socket, std::optional<PeerCred> peer, bool over_tcp)
    : server_(server),
      socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      peer_(peer),
      over_tcp_(over_tcp) {
  ++server_.connections();
}

template <typename Socket>
Session<Socket>::~Session() {
  --server_.connections();
}

template <typename Socket>
void Session<Socket>::ArmTimer() {
  timer_.expires_after(server_.options().read_timeout);
  timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
    if (ec) return;  // cancelled: the read or write finished in time
    self->Close();
  });
}

template <typename Socket>
void Session<Socket>::Close() {
  beast::error_code ec;
  socket_.shutdown(asio::socket_base::shutdown_both, ec);
  socket_.close(ec);
}

template <typename Socket>
void Session<Socket>::Read() {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(server_.options().header_limit));
  parser_->body_limit(server_.options().body_limit);
  ArmTimer();
  http::async_read(
      socket_, buffer_, *parser_,
      [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
}

template <typename Socket>
void Session<Socket>::OnRead(beast::error_code ec) {
  timer_.cancel();
  if (ec == http::error::header_limit) {
    ApiResponse r;
    r.status = 431;
    r.body = "{\"error\": \"request headers too large\"}\n";
    return Respond(std::move(r), false, 11);
  }
  if (ec == http::error::body_limit) {
    ApiResponse r;
    r.status = 413;
    r.body = "{\"error\": \"request body too large\"}\n";
    return Respond(std::move(r), false, 11);
  }
  if (ec) {
    // end_of_stream, timeout (socket closed by the timer), malformed request: just close.
    if (ec != http::error::end_of_stream && ec != asio::error::operation_aborted &&
        ec != asio::error::bad_descriptor) {
      ApiResponse r;
      r.status = 400;
      r.body = "{\"error\": \"malformed request\"}\n";
      return Respond(std::move(r), false, 11);
    }
    return Close();
  }
  auto& req = parser_->get();
  ApiRequest request;
  request.method = std::string(req.method_string());
  request.target = std::string(req.target());
  request.over_tcp = over_tcp_;
  request.peer = peer_;
  request.body = std::move(req.body());
  bool keep_alive = req.keep_alive();
  unsigned version = req.version();
  // The handler may wait on hardware (evidence): run it off the I/O threads.
  asio::post(server_.workers(), [self = this->shared_from_this(), request = std::move(request),
                                 keep_alive, version]() mutable {
    ApiResponse response = self->server_.handler().Handle(request);
    asio::post(self->socket_.get_executor(),
               [self, response = std::move(response), keep_alive, version]() mutable {
                 self->Respond(std::move(response), keep_alive, version);
               });
  });
}

template <typename Socket>
void Session<Socket>::Respond(ApiResponse response, bool keep_alive, unsigned version) {
  response_ = std::make_shared<http::response<http::string_body>>(
      static_cast<http::status>(response.status), version);
  response_->set(http::field::server, std::string("cvm-agentd/") + Version());
  response_->set(http::field::content_type, response.content_type);
  response_->set(http::field::cache_control, "no-store");
  for (const auto& [k, v] : response.headers) response_->set(k, v);
  response_->keep_alive(keep_alive);
  response_secret_ = response.secret;
  response_->body() = std::move(response.body);
  if (response.secret && !response.body.empty()) {
    OPENSSL_cleanse(response.body.data(), response.body.size());
  }
  response_->prepare_payload();
  ArmTimer();
  http::async_write(socket_, *response_,
                    [self = this->shared_from_this(), keep_alive](
                        beast::error_code ec, std::size_t) { self->OnWrite(ec, keep_alive); });
}

template <typename Socket>
void Session<Socket>::OnWrite(beast::error_code ec, bool keep_alive) {
  timer_.cancel();
  if (response_secret_) {
    auto& body = response_->body();
    if (!body.empty()) OPENSSL_cleanse(body.data(), body.size());
  }
  response_.reset();
  if (ec || !keep_alive) return Close();
  Read();
}

}  // namespace

Result<std::unique_ptr<ApiServer>> StartApiServer(const ApiServerOptions& options,
                                                  ApiHandler& handler) {
  auto server = std::make_unique<Server>(options, handler);
  Status s;
  try {
    s = server->Listen();
  } catch (const std::exception& e) {
    s = IoError(std::string("API server: ") + e.what());
  }
  if (!s.ok()) return s;
  return std::unique_ptr<ApiServer>(std::move(server));
}

}  // namespace cvm::agent
