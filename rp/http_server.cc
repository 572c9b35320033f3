// The one translation unit of cvm-rp that includes Boost.Beast (it takes ~40 s to compile).
#include "rp/http_server.h"

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <thread>
#include <type_traits>

#include "common/log.h"

namespace cvm::rp {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using beast::error_code;

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler handler;
  std::optional<ssl::context> tls;  // outlives the connections, which die with `ioc`
  std::atomic<size_t> connections{0};
  std::atomic<size_t> busy{0};
  std::atomic<bool> stopping{false};
  std::atomic<bool> stopped{false};
  net::io_context ioc;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<bool> acceptor_tls;
  std::vector<uint16_t> ports;
  std::vector<std::thread> threads;

  explicit Impl(int threads_hint) : ioc(threads_hint) {}
  void Accept(size_t index);
};

namespace {

template <class Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
  static constexpr size_t kReadBuffer = 8 << 10;

  template <class... Args>
  Connection(HttpServer::Impl& impl, std::string client, Args&&... args)
      : impl_(impl), stream_(std::forward<Args>(args)...), client_(std::move(client)) {}
  ~Connection() { impl_.connections.fetch_sub(1); }

  void Start() {
    // Beast reads at most the buffer's free capacity, and 512 bytes while it has none; the
    // parser consumes what it reads, so a 13 KB attestation came in 26 reads. 8 KiB free
    // (32 MiB at the 4096-connection limit) takes a typical request in one or two.
    buffer_.reserve(kReadBuffer);
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(impl_.options.read_timeout);
      stream_.async_handshake(
          ssl::stream_base::server, [self = this->shared_from_this()](error_code ec) {
            if (ec) return;  // a client that cannot speak TLS to us: nothing to answer
            self->Read();
          });
    } else {
      Read();
    }
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(impl_.options.max_body);
    parser_->header_limit(static_cast<std::uint32_t>(impl_.options.max_header));
    beast::get_lowest_layer(stream_).expires_after(impl_.options.read_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](error_code ec, std::size_t) { self->OnRead(ec); });
  }

  void OnRead(error_code ec) {
    if (ec == http::error::end_of_stream) return Close();
    // Refused before the handler (and so before the audit log) sees them: logged here.
    if (ec == http::error::body_limit) {
      log::Warning("cvm-rp: " + client_ + ": 413: request body over " +
                   std::to_string(impl_.options.max_body) + " bytes");
      return Reply(413, "A payload reached size limit.", false);
    }
    if (ec == http::error::header_limit) {
      log::Warning("cvm-rp: " + client_ + ": 431: request headers over " +
                   std::to_string(impl_.options.max_header) + " bytes");
      return Reply(431, "Request header fields too large.", false);
    }
    if (ec) {
      // A malformed request gets an answer; a timeout or reset just closes.
      if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
        log::Warning("cvm-rp: " + client_ + ": 400: malformed request (" + ec.message() + ")");
        return Reply(400, "Bad Request", false);
      }
      return Close();
    }
    http::request<http::string_body> req = parser_->release();
    HttpIn in;
    in.method = std::string(req.method_string());
    in.target = std::string(req.target());
    if (auto it = req.find(http::field::cookie); it != req.end()) {
      in.cookie = std::string(it->value());
    }
    if (auto it = req.find(http::field::authorization); it != req.end()) {
      in.authorization = std::string(it->value());
    }
    in.body = std::move(req.body());
    in.client = client_;
    impl_.busy.fetch_add(1);
    HttpOut out = impl_.handler(in);
    impl_.busy.fetch_sub(1);
    bool keep_alive = req.keep_alive() && !impl_.stopping.load();
    res_.emplace();
    res_->version(req.version());
    res_->result(static_cast<unsigned>(out.status));
    res_->set(http::field::server, "cvm-rp");
    if (!out.content_type.empty()) res_->set(http::field::content_type, out.content_type);
    for (auto& [name, value] : out.headers) res_->insert(name, value);
    res_->body() = std::move(out.body);
    res_->keep_alive(keep_alive);
    res_->prepare_payload();
    Write();
  }

  void Reply(int status, std::string text, bool keep_alive) {
    res_.emplace();
    res_->version(11);
    res_->result(static_cast<unsigned>(status));
    res_->set(http::field::server, "cvm-rp");
    res_->set(http::field::content_type, "text/plain; charset=utf-8");
    res_->body() = std::move(text);
    res_->keep_alive(keep_alive);
    res_->prepare_payload();
    Write();
  }

  void Write() {
    beast::get_lowest_layer(stream_).expires_after(impl_.options.read_timeout);
    http::async_write(stream_, *res_,
                      [self = this->shared_from_this()](error_code ec, std::size_t) {
                        if (ec) return;
                        if (!self->res_->keep_alive()) return self->Close();
                        self->Read();
                      });
  }

  void Close() {
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](error_code) {
        error_code ignored;
        beast::get_lowest_layer(self->stream_)
            .socket()
            .shutdown(tcp::socket::shutdown_both, ignored);
      });
    } else {
      error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  HttpServer::Impl& impl_;
  Stream stream_;
  std::string client_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> res_;
};

std::string PeerName(const tcp::socket& socket) {
  error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  std::string addr = ep.address().to_string();
  if (ep.address().is_v6()) addr = "[" + addr + "]";
  return addr + ":" + std::to_string(ep.port());
}

}  // namespace

void HttpServer::Impl::Accept(size_t index) {
  tcp::acceptor& acceptor = *acceptors[index];
  acceptor.async_accept(net::make_strand(ioc), [this, index](error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || stopping.load()) return;
      log::Warning("cvm-rp: accept: " + ec.message());
      return Accept(index);
    }
    if (connections.fetch_add(1) >= options.max_connections) {
      connections.fetch_sub(1);
      error_code ignored;
      socket.close(ignored);
      return Accept(index);
    }
    std::string client = PeerName(socket);
    // Request/response: a reply (or a TLS handshake message) held back by Nagle's algorithm
    // waits for the peer's delayed ACK, up to 40 ms on Linux, for nothing.
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (acceptor_tls[index]) {
      std::make_shared<Connection<beast::ssl_stream<beast::tcp_stream>>>(*this, std::move(client),
                                                                         std::move(socket), *tls)
          ->Start();
    } else {
      std::make_shared<Connection<beast::tcp_stream>>(*this, std::move(client), std::move(socket))
          ->Start();
    }
    Accept(index);
  });
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

std::vector<uint16_t> HttpServer::ports() const { return impl_->ports; }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                      HttpHandler handler) {
  if (options.listeners.empty()) return InvalidInput("no address to listen on");
  if (options.threads < 1 || options.threads > 256) {
    return InvalidInput("threads must be between 1 and 256");
  }
  auto impl = std::make_unique<Impl>(options.threads);
  impl->options = options;
  impl->handler = std::move(handler);
  bool want_tls = false;
  for (const auto& l : options.listeners) want_tls = want_tls || l.tls;
  if (want_tls) {
    if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
      return InvalidInput("an https listener needs a TLS certificate and key");
    }
    impl->tls.emplace(ssl::context::tls_server);
    impl->tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1);
    // No TLS 1.3 session tickets (OpenSSL sends two after every handshake): a guest makes one
    // connection per exchange and no client of this protocol resumes a session, so each ticket
    // was a server-side encryption and a record that nobody used.
    SSL_CTX_set_num_tickets(impl->tls->native_handle(), 0);
    error_code ec;
    impl->tls->use_certificate_chain_file(options.tls_cert_file, ec);
    if (ec) {
      return InvalidInput("TLS certificate " + options.tls_cert_file + ": " + ec.message());
    }
    impl->tls->use_private_key_file(options.tls_key_file, ssl::context::pem, ec);
    if (ec) return InvalidInput("TLS key " + options.tls_key_file + ": " + ec.message());
  }
  for (const auto& l : options.listeners) {
    error_code ec;
    auto address = net::ip::make_address(l.address, ec);
    if (ec) return InvalidInput("listen address '" + l.address + "' is not an IP address");
    tcp::endpoint endpoint(address, l.port);
    auto acceptor = std::make_unique<tcp::acceptor>(net::make_strand(impl->ioc));
    std::string where = l.address + ":" + std::to_string(l.port);
    if (acceptor->open(endpoint.protocol(), ec); ec) {
      return Unavailable("listen on " + where + ": " + ec.message());
    }
    acceptor->set_option(net::socket_base::reuse_address(true), ec);
    if (acceptor->bind(endpoint, ec); ec) {
      return Unavailable("listen on " + where + ": " + ec.message());
    }
    if (acceptor->listen(net::socket_base::max_listen_connections, ec); ec) {
      return Unavailable("listen on " + where + ": " + ec.message());
    }
    impl->ports.push_back(acceptor->local_endpoint().port());
    impl->acceptors.push_back(std::move(acceptor));
    impl->acceptor_tls.push_back(l.tls);
  }
  for (size_t i = 0; i < impl->acceptors.size(); ++i) impl->Accept(i);
  Impl* raw = impl.get();
  for (int i = 0; i < options.threads; ++i) {
    raw->threads.emplace_back([raw] {
      while (true) {
        try {
          raw->ioc.run();
          return;
        } catch (const std::exception& e) {
          log::Error(std::string("cvm-rp: server thread: ") + e.what());
        }
      }
    });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::Stop(std::chrono::milliseconds grace) {
  if (!impl_ || impl_->stopped.exchange(true)) return;
  impl_->stopping.store(true);
  for (auto& acceptor : impl_->acceptors) {
    tcp::acceptor* a = acceptor.get();
    net::post(a->get_executor(), [a] {
      error_code ignored;
      a->close(ignored);
    });
  }
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (impl_->busy.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace cvm::rp
