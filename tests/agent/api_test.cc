#include "agent/api.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "agent/api_server.h"
#include "common/http.h"
#include "tests/agent/fakes.h"
#include "tests/testing/testing.h"

namespace cvm::agent {
namespace {

using nlohmann::json;

constexpr char kSecret[] = "top-secret-value";

struct ApiFixture {
  cvm::testing::TempDir dir;
  Config config;
  AgentState state;
  Metrics metrics;
  SecretStore secrets;
  testing::FakeEvidence evidence;
  int attest_requests = 0;
  std::unique_ptr<ApiHandler> handler;
  std::unique_ptr<ApiServer> server;
  std::unique_ptr<HttpClient> http = NewCurlHttpClient();

  static Config MakeConfig() {
    Config c;
    c.relying_parties = {{"https://rp", "", "", "", ""}};
    ResourceConfig mine;  // readable by root, i.e. by this test
    mine.name = "mine";
    mine.path = "default/app/mine";
    mine.api = ApiSink{{0}, {}, false};
    ResourceConfig theirs;  // readable by uid 4242 only
    theirs.name = "theirs";
    theirs.path = "default/app/theirs";
    theirs.api = ApiSink{{4242}, {4242}, false};
    ResourceConfig tcp;  // readable over TCP
    tcp.name = "tcp";
    tcp.path = "default/app/tcp";
    tcp.api = ApiSink{{}, {}, true};
    c.resources = {mine, theirs, tcp};
    return c;
  }

  explicit ApiFixture(std::chrono::milliseconds read_timeout = std::chrono::seconds(5))
      : config(MakeConfig()),
        state(config, Platform{TeeKind::kSimSnp, "configured: sim-snp", false, true},
              SystemClock::Get().Now()) {
    for (const char* name : {"mine", "theirs", "tcp"}) {
      secrets.Put(name, SecretBytes(Bytes(kSecret, kSecret + std::strlen(kSecret))));
    }
    ApiHandler::Deps d;
    d.config = &config;
    d.state = &state;
    d.metrics = &metrics;
    d.secrets = &secrets;
    d.evidence = &evidence;
    d.request_attest = [this] { ++attest_requests; };
    d.token = [] { return std::string("eyJ.token.sig"); };
    d.clock = &SystemClock::Get();
    handler = std::make_unique<ApiHandler>(d);
    ApiServerOptions o;
    o.unix_path = socket();
    o.tcp_port = 0;
    o.read_timeout = read_timeout;
    o.header_limit = 4096;
    auto s = StartApiServer(o, *handler);
    REQUIRE(s.ok());
    server = std::move(*s);
  }
  ~ApiFixture() { server->Stop(); }

  std::string socket() const { return dir.File("api.sock"); }
  HttpResponse Get(const std::string& target, const std::string& method = "GET") {
    HttpRequest r;
    r.method = method;
    r.url = "http://localhost" + target;
    r.unix_socket = socket();
    r.timeout = std::chrono::seconds(10);
    auto resp = http->Send(r);
    REQUIRE(resp.ok());
    return *resp;
  }
  HttpResponse Post(const std::string& target, const std::string& body) {
    HttpRequest r;
    r.method = "POST";
    r.url = "http://localhost" + target;
    r.unix_socket = socket();
    r.body.assign(body.begin(), body.end());
    r.timeout = std::chrono::seconds(10);
    auto resp = http->Send(r);
    REQUIRE(resp.ok());
    return *resp;
  }
  HttpResponse GetTcp(const std::string& target) {
    HttpRequest r;
    r.url = "http://127.0.0.1:" + std::to_string(server->tcp_port()) + target;
    auto resp = http->Send(r);
    REQUIRE(resp.ok());
    return *resp;
  }
};

std::string Body(const HttpResponse& r) { return std::string(AsChars(r.body)); }

int ConnectUnix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, path.data(), path.size());
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  return fd;
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

TEST_CASE("GET /v1/status answers the documented document, simulated flag included") {
  ApiFixture f;
  auto r = f.Get("/v1/status");
  REQUIRE(r.status == 200);
  auto j = json::parse(Body(r));
  CHECK(j["tee"]["kind"] == "sim-snp");
  CHECK(j["simulated"] == true);
  CHECK(j["state"] == "starting");
  CHECK(j["resources"].size() == 3);
  CHECK(j["resources"][0]["name"] == "mine");
  CHECK(j.contains("uptime_seconds"));
  CHECK(j.contains("version"));
}

TEST_CASE("GET /v1/evidence binds the caller's nonce through the evidence source") {
  ApiFixture f;
  auto r = f.Get("/v1/evidence?nonce=q83vEjRWeJA");
  REQUIRE(r.status == 200);
  auto j = json::parse(Body(r));
  CHECK(j["runtime_data"]["nonce"] == "q83vEjRWeJA");
  std::string hex(128, 'a');
  r = f.Get("/v1/evidence?nonce=" + hex + "&raw=1");
  REQUIRE(r.status == 200);
  CHECK(json::parse(Body(r))["report_data_raw"] == hex);
  CHECK(f.Get("/v1/evidence").status == 400);
  CHECK(f.Get("/v1/evidence?nonce=abc").status == 400);             // too short
  CHECK(f.Get("/v1/evidence?nonce=abcdefgh%21%21").status == 400);  // not base64url/hex
  CHECK(f.Get("/v1/evidence?nonce=abcdefgh&raw=1").status == 400);  // not 64 bytes
}

TEST_CASE("CoCo's /aa/evidence takes runtime data as text or URL-safe base64") {
  ApiFixture f;
  auto r = f.Get("/aa/evidence?runtime_data=hello");
  REQUIRE(r.status == 200);
  CHECK(r.Header("content-type") == "application/octet-stream");
  std::string expect = "68656c6c6f" + std::string(118, '0');
  CHECK(json::parse(Body(r))["report_data_raw"] == expect);
  r = f.Get("/aa/evidence?runtime_data=aGVsbG8&encoding=base64");
  REQUIRE(r.status == 200);
  CHECK(json::parse(Body(r))["report_data_raw"] == expect);
  CHECK(f.Get("/aa/evidence?runtime_data=" + std::string(65, 'x')).status == 400);
}

TEST_CASE("A secret is served to a caller the ACL allows") {
  ApiFixture f;
  auto r = f.Get("/v1/secrets/mine");
  REQUIRE(r.status == 200);
  CHECK(Body(r) == kSecret);
  r = f.Get("/cdh/resource/default/app/mine");
  REQUIRE(r.status == 200);
  CHECK(Body(r) == kSecret);
}

TEST_CASE("A caller the ACL does not allow gets 403 and never the secret") {
  ApiFixture f;
  for (const char* target : {"/v1/secrets/theirs", "/cdh/resource/default/app/theirs"}) {
    auto r = f.Get(target);
    CHECK(r.status == 403);
    CHECK(Body(r).find(kSecret) == std::string::npos);
  }
  CHECK(f.Get("/v1/secrets/nope").status == 404);
  // Over TCP only resources that allow TCP.
  auto r = f.GetTcp("/v1/secrets/mine");
  CHECK(r.status == 403);
  CHECK(Body(r).find(kSecret) == std::string::npos);
  r = f.GetTcp("/v1/secrets/tcp");
  CHECK(r.status == 200);
  CHECK(Body(r) == kSecret);
}

TEST_CASE("The secret list says what the caller may read without any secret") {
  ApiFixture f;
  auto r = f.Get("/v1/secrets");
  REQUIRE(r.status == 200);
  CHECK(Body(r).find(kSecret) == std::string::npos);
  auto j = json::parse(Body(r));
  REQUIRE(j["secrets"].size() == 3);
  CHECK(j["secrets"][0]["readable_by_you"] == true);
  CHECK(j["secrets"][1]["readable_by_you"] == false);
  CHECK(j["secrets"][0]["delivered"] == true);
}

TEST_CASE("POST /v1/attest asks for a re-attestation; other methods are refused") {
  ApiFixture f;
  CHECK(f.Get("/v1/attest", "POST").status == 202);
  CHECK(f.attest_requests == 1);
  auto r = f.Get("/v1/attest");
  CHECK(r.status == 405);
  CHECK(r.Header("allow") == "POST");
}

TEST_CASE("GET /aa/token gives the token only, and only to callers allowed a resource") {
  ApiFixture f;
  auto r = f.Get("/aa/token?token_type=kbs");
  REQUIRE(r.status == 200);
  auto j = json::parse(Body(r));
  CHECK(j == json{{"token", "eyJ.token.sig"}});
  CHECK(f.Get("/aa/token?token_type=other").status == 400);
}

TEST_CASE("Metrics count requests by route and code") {
  ApiFixture f;
  f.Get("/healthz");
  f.Get("/v1/secrets/theirs");
  f.Get("/nope");
  auto r = f.Get("/metrics");
  REQUIRE(r.status == 200);
  std::string m = Body(r);
  CHECK(m.find("cvm_agent_api_requests_total{path=\"/healthz\",code=\"200\"} 1") !=
        std::string::npos);
  CHECK(m.find("cvm_agent_api_requests_total{path=\"/v1/secrets/{name}\",code=\"403\"} 1") !=
        std::string::npos);
  CHECK(m.find("cvm_agent_api_requests_total{path=\"other\",code=\"404\"} 1") != std::string::npos);
  CHECK(m.find("# TYPE cvm_agent_attestation_duration_seconds histogram") != std::string::npos);
}

TEST_CASE("Oversized request headers are refused with 431") {
  ApiFixture f;
  int fd = ConnectUnix(f.socket());
  std::string req =
      "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n";
  REQUIRE(::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size()));
  std::string answer = ReadAll(fd);
  ::close(fd);
  CHECK(answer.rfind("HTTP/1.1 431", 0) == 0);
}

TEST_CASE("A slow client does not block others and is cut off at the read timeout") {
  ApiFixture f(std::chrono::milliseconds(500));
  int slow = ConnectUnix(f.socket());
  std::string partial = "GET /v1/status HTTP/1.1\r\nHost: x\r\n";  // never finished
  REQUIRE(::write(slow, partial.data(), partial.size()) > 0);
  auto start = std::chrono::steady_clock::now();
  CHECK(f.Get("/healthz").status == 200);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(400));
  // The server closes the slow connection after its read timeout: read() sees EOF.
  timeval tv{5, 0};
  ::setsockopt(slow, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  start = std::chrono::steady_clock::now();
  char c;
  CHECK(::read(slow, &c, 1) == 0);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
  ::close(slow);
}

TEST_CASE("Requests are served concurrently") {
  ApiFixture f;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto http = NewCurlHttpClient();
      HttpRequest r;
      r.url = "http://localhost/v1/status";
      r.unix_socket = f.socket();
      for (int k = 0; k < 10; ++k) {
        auto resp = http->Send(r);
        if (resp.ok() && resp->status == 200) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 80);
}

// Adds the resources of the LUKS tests to a fixture's configuration (the handler reads it on
// every request): "disk" for one volume, "nodisk" without a UUID, "later" not delivered yet.
void AddLuksResources(ApiFixture& f) {
  ResourceConfig disk;  // a LUKS volume's key
  disk.name = "disk";
  disk.path = "default/luks/disk";
  disk.cryptsetup = CryptsetupSink{"data", false, "0b8e4a1c-1d2e-4f60-8a9b-0c1d2e3f4a5b"};
  ResourceConfig nodisk;  // a cryptsetup sink without a UUID: not for the token plugin
  nodisk.name = "nodisk";
  nodisk.path = "default/luks/nodisk";
  nodisk.cryptsetup = CryptsetupSink{"other", false, ""};
  ResourceConfig later;  // not delivered yet
  later.name = "later";
  later.path = "default/luks/later";
  later.cryptsetup = CryptsetupSink{"later", false, "11111111-1d2e-4f60-8a9b-0c1d2e3f4a5b"};
  f.config.resources.insert(f.config.resources.end(), {disk, nodisk, later});
  for (const char* name : {"disk", "nodisk"}) {
    f.secrets.Put(name, SecretBytes(Bytes(kSecret, kSecret + std::strlen(kSecret))));
  }
}

std::string LuksBody(const std::string& resource, const std::string& uuid,
                     const std::string& ciphers = R"(["aes-xts-plain64"])") {
  return R"({"resource":")" + resource + R"(","uuid":")" + uuid + R"(","ciphers":)" + ciphers + "}";
}
constexpr char kDiskUuid[] = "0b8e4a1c-1d2e-4f60-8a9b-0c1d2e3f4a5b";

TEST_CASE("POST /v1/luks/key serves root the key of the volume its configuration lists") {
  ApiFixture f;
  AddLuksResources(f);
  auto r = f.Post("/v1/luks/key", LuksBody("disk", "0B8E4A1C-1D2E-4F60-8A9B-0C1D2E3F4A5B"));
  CHECK(r.status == 200);
  CHECK(Body(r) == kSecret);
  CHECK(r.Header("content-type") == "application/octet-stream");
}

TEST_CASE("POST /v1/luks/key refuses another volume's UUID and a resource without one") {
  ApiFixture f;
  AddLuksResources(f);
  auto other = f.Post("/v1/luks/key", LuksBody("disk", "ffffffff-1d2e-4f60-8a9b-0c1d2e3f4a5b"));
  CHECK(other.status == 403);
  CHECK(Body(other).find("is configured for volume 0b8e4a1c-1d2e-4f60-8a9b-0c1d2e3f4a5b, not for "
                         "volume ffffffff") != std::string::npos);
  CHECK(Body(other).find(kSecret) == std::string::npos);
  auto nouuid = f.Post("/v1/luks/key", LuksBody("nodisk", kDiskUuid));
  CHECK(nouuid.status == 403);
  CHECK(Body(nouuid).find("sinks.cryptsetup.uuid") != std::string::npos);
  CHECK(f.Post("/v1/luks/key", LuksBody("mine", kDiskUuid)).status == 403);
  CHECK(f.Post("/v1/luks/key", LuksBody("nope", kDiskUuid)).status == 404);
}

TEST_CASE("POST /v1/luks/key refuses a null cipher and one outside the allow list") {
  ApiFixture f;
  AddLuksResources(f);
  auto null = f.Post("/v1/luks/key", LuksBody("disk", kDiskUuid, R"(["cipher_null-ecb"])"));
  CHECK(null.status == 403);
  CHECK(Body(null).find("cipher_null-ecb") != std::string::npos);
  auto cbc =
      f.Post("/v1/luks/key", LuksBody("disk", kDiskUuid, R"(["aes-xts-plain64","aes-cbc-plain"])"));
  CHECK(cbc.status == 403);
  CHECK(Body(cbc).find("aes-cbc-plain, which luks.allowed_ciphers does not allow") !=
        std::string::npos);
}

TEST_CASE("POST /v1/luks/key answers 503 with Retry-After before the key is delivered") {
  ApiFixture f;
  AddLuksResources(f);
  auto r = f.Post("/v1/luks/key", LuksBody("later", "11111111-1d2e-4f60-8a9b-0c1d2e3f4a5b"));
  CHECK(r.status == 503);
  CHECK(r.Header("retry-after") == "1");
  CHECK(Body(r).find("has not been delivered yet (state: starting") != std::string::npos);
}

TEST_CASE("POST /v1/luks/key refuses malformed bodies, TCP callers and non-root callers") {
  ApiFixture f;
  AddLuksResources(f);
  CHECK(f.Post("/v1/luks/key", "not json").status == 400);
  CHECK(f.Post("/v1/luks/key", R"({"resource":"disk","uuid":"x"})").status == 400);
  CHECK(f.Post("/v1/luks/key", R"({"resource":"disk","uuid":"x","ciphers":[],"url":"u"})").status ==
        400);
  CHECK(f.Get("/v1/luks/key").status == 405);
  ApiRequest tcp;
  tcp.method = "POST";
  tcp.target = "/v1/luks/key";
  tcp.over_tcp = true;
  tcp.body = LuksBody("disk", kDiskUuid);
  CHECK(f.handler->Handle(tcp).status == 403);
  ApiRequest user = tcp;
  user.over_tcp = false;
  user.peer = PeerCred{1, 1000, 1000};
  auto r = f.handler->Handle(user);
  CHECK(r.status == 403);
  CHECK(r.body.find("root on the unix socket only, not to uid 1000") != std::string::npos);
}

}  // namespace
}  // namespace cvm::agent
