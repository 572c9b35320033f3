// The libcurl HttpClient against a local `openssl s_server -www` on a loopback port: CA file,
// SPKI SHA-256 pinning, and the failures a wrong pin or an untrusted server give.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "common/digest.h"
#include "common/encoding.h"
#include "common/file_util.h"
#include "common/http.h"
#include "common/keys.h"
#include "common/x509.h"
#include "tests/testing/testing.h"

namespace cvm {
namespace {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  close(fd);
  return ntohs(addr.sin_port);
}

bool Connectable(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

// `openssl s_server -www` with a fresh self-signed certificate for 127.0.0.1; killed on
// destruction (also when a REQUIRE fails).
class TlsServer {
 public:
  TlsServer() {
    cert_ = dir_.File("cert.pem");
    std::string key = dir_.File("key.pem");
    auto gen =
        testing::Run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                      "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert_, "-subj",
                      "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1"});
    REQUIRE(gen.exit_code == 0);
    port_ = FreePort();
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      std::string accept = "127.0.0.1:" + std::to_string(port_);
      execl("/usr/bin/openssl", "openssl", "s_server", "-accept", accept.c_str(), "-cert",
            cert_.c_str(), "-key", key.c_str(), "-www", "-quiet", static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 100 && !Connectable(port_); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~TlsServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;

  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_) + "/"; }
  const std::string& cert() const { return cert_; }
  std::string Pin() const {
    auto pem = ReadTextFile(cert_);
    REQUIRE(pem.ok());
    auto cert = Certificate::FromPem(*pem);
    REQUIRE(cert.ok());
    auto key = cert->PublicKey();
    REQUIRE(key.ok());
    auto der = PublicKeyToDer(key->get());
    REQUIRE(der.ok());
    return Base64Encode(Sha256(*der));
  }

 private:
  testing::TempDir dir_;
  std::string cert_;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST_CASE("HTTPS with the server's CA file and its pinned key succeeds") {
  TlsServer server;
  auto http = NewCurlHttpClient();
  HttpRequest req;
  req.url = server.url();
  req.ca_file = server.cert();
  req.proxy = "";
  auto plain = http->Send(req);
  REQUIRE(plain.ok());
  CHECK(plain->status == 200);
  req.pinned_spki_sha256 = Base64Encode(Bytes(32, 9)) + ";" + server.Pin();
  auto pinned = http->Send(req);
  REQUIRE(pinned.ok());
  CHECK(pinned->status == 200);
}

TEST_CASE("HTTPS with a pin that does not match fails with a clear message") {
  TlsServer server;
  auto http = NewCurlHttpClient();
  HttpRequest req;
  req.url = server.url();
  req.ca_file = server.cert();
  req.proxy = "";
  req.pinned_spki_sha256 = Base64Encode(Bytes(32, 9));
  auto r = http->Send(req);
  REQUIRE(r.status().code() == Code::kRejected);
  CHECK(r.status().ToString().find("does not match the pinned SHA-256") != std::string::npos);
}

TEST_CASE("HTTPS to a server the CA store does not trust fails verification") {
  TlsServer server;
  auto http = NewCurlHttpClient();
  HttpRequest req;
  req.url = server.url();
  req.proxy = "";
  auto r = http->Send(req);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kRejected);
}

TEST_CASE("A malformed pin is refused before connecting") {
  auto http = NewCurlHttpClient();
  HttpRequest req;
  req.url = "https://127.0.0.1:1/";
  req.pinned_spki_sha256 = "sha256//abc";
  CHECK(http->Send(req).status().code() == Code::kInvalidInput);
  CHECK(!PinnedPublicKeyOption("").ok());
  CHECK(PinnedPublicKeyOption(Base64Encode(Bytes(32, 1))).value() ==
        "sha256//" + Base64Encode(Bytes(32, 1)));
}

}  // namespace
}  // namespace cvm
