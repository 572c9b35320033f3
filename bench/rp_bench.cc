// What cvm-rp's own code costs per KBS exchange without a transport: the three requests of an
// exchange (POST auth, POST attest with simulated SNP evidence, GET resource) handed to
// KbsService::Handle in-process, with cvm-rp's production adapters (FromTrusteeEvidence +
// VerifyBundle, the ES256 token, the ECDH-ES+A256KW JWE), its policy, sessions and audit file,
// configured as scripts/bench configures the cvm-rp it loads. The guest's side (signing a report
// for the nonce, its TEE key, the attestation JSON) runs with the timer paused.
//
// scripts/bench puts BM_RpServiceExchange next to BM_BundleVerifySimSnp (bench_evidence): the
// verification an exchange contains, with the same evidence. Both report CPU time.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <optional>
#include <thread>

#include "common/clock.h"
#include "common/encoding.h"
#include "common/ossl.h"
#include "evidence/collect.h"
#include "evidence/jose.h"
#include "evidence/kbs.h"
#include "evidence/trustee.h"
#include "rp/audit.h"
#include "rp/config.h"
#include "rp/evidence_adapters.h"
#include "rp/http_server.h"
#include "rp/kbs_service.h"
#include "rp/policy.h"
#include "rp/sessions.h"
#include "snp/sim.h"
#include "tests/testing/testing.h"

namespace cvm::rp {
namespace {

using nlohmann::json;

void WriteText(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// cvm-rp as scripts/bench runs it: a simulated Genoa platform's ARK as the only SNP root, a
// policy accepting it, one inline resource, an audit file.
struct Relying {
  testing::TempDir dir;
  std::optional<snp::SimSnp> sim;
  Config config;
  std::unique_ptr<AuditLog> audit;
  EvidenceBackends backends;
  std::unique_ptr<SessionStore> sessions;
  std::unique_ptr<KbsService> service;
  std::string error;

  Relying() {
    if (Status s = Setup(); !s.ok()) error = s.ToString();
  }

  Status Setup() {
    auto s = snp::SimSnp::Create(snp::SimPlatform{}, dir.File("sim"));
    if (!s.ok()) return s.status();
    sim.emplace(std::move(*s));
    WriteText(dir.File("policy.yaml"),
              "version: 1\ndefault:\n  tee: [snp]\n  allow_simulated: true\n"
              "  allow_debug: false\n  max_evidence_age: 5m\n  snp_measurements: [\"" +
                  std::string(96, '0') + "\"]\n");
    WriteText(dir.File("cvm-rp.yaml"),
              "token_key: " + dir.File("token.key") + "\npolicy: " + dir.File("policy.yaml") +
                  "\nresources:\n  inline:\n    default/key/app: {value: \"bench secret\"}\n"
                  "token_lifetime: 1h\nsession_timeout: 5m\naudit_log: " +
                  dir.File("audit.log") + "\ntrust_anchors:\n  snp_roots: [" +
                  dir.File("sim/ark.pem") + "]\n");
    auto loaded = LoadConfig(dir.File("cvm-rp.yaml"));
    if (!loaded.ok()) return loaded.status();
    config = std::move(*loaded);
    auto policy = LoadPolicy(config.policy);
    if (!policy.ok()) return policy.status();
    auto resources = LoadResources(config);
    if (!resources.ok()) return resources.status();
    bool created = false;
    auto key = LoadOrCreateTokenKey(config.token_key, /*create=*/true, &created);
    if (!key.ok()) return key.status();
    auto made = MakeEvidenceBackends(config, std::move(key).value());
    if (!made.ok()) return made.status();
    backends = std::move(*made);
    auto opened = AuditLog::Open(config.audit_log, SystemClock::Get());
    if (!opened.ok()) return opened.status();
    audit = std::move(*opened);
    sessions = std::make_unique<SessionStore>(SystemClock::Get(), config.session_timeout,
                                              config.max_sessions);
    ServiceOptions options;
    options.token_lifetime = config.token_lifetime;
    service = std::make_unique<KbsService>(
        SystemClock::Get(), *sessions, *backends.appraiser, *backends.sealer, *backends.signer,
        *audit, options, std::make_shared<const Policy>(std::move(policy).value()), *resources);
    return Status::Ok();
  }
};

Relying& Rp() {
  static Relying rp;
  return rp;
}

// The guest's side of an exchange after its challenge: a report signed for the nonce and a
// fresh TEE key, as the attestation body (Trustee's tee-evidence), and the requests it sends.
struct GuestRequests {
  std::optional<evidence::TeeKeyPair> tee_key;
  HttpIn attest;
  HttpIn resource;
};

Result<GuestRequests> Guest(Relying& rp, const HttpIn& auth, const HttpOut& challenge) {
  if (challenge.status != 200 || challenge.headers.empty()) return Internal("auth refused");
  CVM_ASSIGN_OR_RETURN(auto parsed, evidence::ParseKbsChallenge(challenge.body));
  CVM_ASSIGN_OR_RETURN(auto cookie, evidence::SessionIdFromSetCookie(challenge.headers[0].second));
  if (!cookie) return Internal("no session cookie");
  GuestRequests g;
  CVM_ASSIGN_OR_RETURN(g.tee_key, evidence::TeeKeyPair::Generate());
  evidence::CollectPlatform platform;
  platform.sim_snp = &*rp.sim;
  evidence::CollectRequest request;
  request.kind = evidence::CollectKind::kSimSnp;
  request.sim_dir = rp.dir.File("sim");
  request.nonce = parsed.nonce;
  request.tee_pubkey = g.tee_key->PublicJwk();
  request.hash = DigestAlg::kSha384;
  CVM_ASSIGN_OR_RETURN(auto bundle, evidence::Collect(request, platform));
  CVM_ASSIGN_OR_RETURN(auto trustee, evidence::ToTrusteeEvidence(bundle));
  evidence::KbsAttestation attestation;
  attestation.nonce = parsed.nonce;
  attestation.tee_pubkey = request.tee_pubkey;
  attestation.primary_evidence = std::move(trustee.primary);
  attestation.additional_evidence = std::move(trustee.additional);
  g.attest.method = "POST";
  g.attest.target = "/kbs/v0/attest";
  g.attest.cookie = std::string(evidence::kKbsSessionCookie) + "=" + *cookie;
  g.attest.body = evidence::ToJson(attestation).dump();
  g.attest.client = auth.client;
  g.resource.method = "GET";
  g.resource.target = "/kbs/v0/resource/default/key/app";
  g.resource.cookie = g.attest.cookie;
  g.resource.client = auth.client;
  return g;
}

HttpIn AuthRequest() {
  HttpIn auth;
  auth.method = "POST";
  auth.target = "/kbs/v0/auth";
  auth.body =
      R"({"version":"0.4.0","tee":"snp","extra-params":"","supported-hash-algorithms":["sha384"]})";
  auth.client = "127.0.0.1:1";
  return auth;
}

// rp_service_exchange: one exchange's three requests through KbsService::Handle. The timer is
// paused while the guest signs its report for the nonce and builds the attestation.
void BM_RpServiceExchange(benchmark::State& state) {
  Relying& rp = Rp();
  if (!rp.error.empty()) return state.SkipWithError(rp.error.c_str());
  const HttpIn auth = AuthRequest();
  for (auto _ : state) {
    HttpOut challenge = rp.service->Handle(auth);

    state.PauseTiming();
    auto guest = Guest(rp, auth, challenge);
    if (!guest.ok()) return state.SkipWithError(guest.status().ToString().c_str());
    state.ResumeTiming();

    HttpOut token = rp.service->Handle(guest->attest);
    HttpOut jwe = rp.service->Handle(guest->resource);

    state.PauseTiming();
    if (token.status != 200) return state.SkipWithError("attest refused");
    if (jwe.status != 200 || !guest->tee_key->Decrypt(jwe.body).ok()) {
      return state.SkipWithError("no resource sealed to the TEE key");
    }
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RpServiceExchange);

// ---- Floors: what any relying party serving this exchange must do besides the verification,
// with the libraries cvm-rp is built on, each done the cheapest way the library allows. CPU time
// of the benchmark's thread (Google Benchmark's default), which plays the relying party; the
// guest's side runs on another thread or outside the timer. scripts/bench adds them up into the
// ceiling of rp_attest: the verification's time over the verification's plus the floor's.

// The messages of one real exchange with cvm-rp (bodies as cvm-rp sends and receives them).
struct Exchange {
  std::string auth_body, challenge_body, attest_body, token_body, resource_target, jwe_body;
  std::string tee_x, tee_y;  // the TEE key's point, base64url
  std::string error;
};

const Exchange& RealExchange() {
  static const Exchange exchange = [] {
    Exchange e;
    Relying& rp = Rp();
    if (!rp.error.empty()) return e.error = rp.error, e;
    HttpIn auth = AuthRequest();
    HttpOut challenge = rp.service->Handle(auth);
    auto guest = Guest(rp, auth, challenge);
    if (!guest.ok()) return e.error = guest.status().ToString(), e;
    HttpOut token = rp.service->Handle(guest->attest);
    HttpOut jwe = rp.service->Handle(guest->resource);
    if (token.status != 200 || jwe.status != 200) return e.error = "exchange refused", e;
    nlohmann::json jwk = guest->tee_key->PublicJwk();
    e.auth_body = auth.body;
    e.challenge_body = challenge.body;
    e.attest_body = guest->attest.body;
    e.token_body = token.body;
    e.resource_target = guest->resource.target;
    e.jwe_body = jwe.body;
    e.tee_x = jwk.at("x").get<std::string>();
    e.tee_y = jwk.at("y").get<std::string>();
    return e;
  }();
  return exchange;
}

// nlohmann's SAX interface with every event accepted and nothing built: the lexer alone.
struct NullSax final : nlohmann::json_sax<nlohmann::json> {
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }
};

ossl::PKey P256Template() {
  ossl::PKeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* params = nullptr;
  if (!ctx || EVP_PKEY_paramgen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256") != 1 ||
      EVP_PKEY_paramgen(ctx.get(), &params) != 1) {
    return nullptr;
  }
  return ossl::PKey(params);
}

ossl::PKey GenerateFrom(EVP_PKEY* params) {
  ossl::PKeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, params, nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_generate(ctx.get(), &key) != 1) {
    return nullptr;
  }
  return ossl::PKey(key);
}

// rp_protocol_floor: the cryptography and lexing the protocol itself asks of the relying party
// per exchange, cheapest form, nothing else: 48 random bytes (session id, nonce); lexing the
// attestation body (nothing built); the TEE key from its point (on-curve check only); the token's
// ES256 signature over a signing input the size of cvm-rp's; the JWE of the resource
// (ECDH-ES+A256KW: an ephemeral P-256 key from a curve template, ECDH, the Concat KDF's one
// SHA-256, AES-256 key wrap of the content key, AES-256-GCM of the secret).
void BM_RpProtocolFloor(benchmark::State& state) {
  const Exchange& ex = RealExchange();
  if (!ex.error.empty()) return state.SkipWithError(ex.error.c_str());
  ossl::PKey curve = P256Template();
  ossl::PKey token_key = curve ? GenerateFrom(curve.get()) : nullptr;
  auto x = Base64UrlDecode(ex.tee_x);
  auto y = Base64UrlDecode(ex.tee_y);
  if (!token_key || !x.ok() || !y.ok()) return state.SkipWithError("setup failed");
  Bytes point{0x04};
  point.insert(point.end(), x->begin(), x->end());
  point.insert(point.end(), y->begin(), y->end());
  // The token: header.claims, base64url, as long as the signing input of cvm-rp's token.
  auto token = nlohmann::json::parse(ex.token_body).at("token").get<std::string>();
  const std::string signing_input(token.substr(0, token.rfind('.')));
  const std::string secret = "bench secret";
  const std::string protected_header(120, 'h');  // the JWE's base64url header, its GCM AAD
  // Fetched once, as cvm-rp's JWE code keeps them.
  std::unique_ptr<EVP_CIPHER, ossl::Deleter<EVP_CIPHER_free>> gcm_owned(
      EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr));
  std::unique_ptr<EVP_CIPHER, ossl::Deleter<EVP_CIPHER_free>> wrap_owned(
      EVP_CIPHER_fetch(nullptr, "AES-256-WRAP", nullptr));
  std::unique_ptr<EVP_MD, ossl::Deleter<EVP_MD_free>> sha256_owned(
      EVP_MD_fetch(nullptr, "SHA2-256", nullptr));
  const EVP_CIPHER* gcm = gcm_owned.get();
  const EVP_CIPHER* wrap = wrap_owned.get();
  const EVP_MD* sha256 = sha256_owned.get();
  if (gcm == nullptr || wrap == nullptr || sha256 == nullptr) {
    return state.SkipWithError("no AES-256-GCM, AES-256-WRAP or SHA-256");
  }
  bool ok = true;
  for (auto _ : state) {
    uint8_t ids[48];
    ok &= RAND_bytes(ids, sizeof(ids)) == 1;

    NullSax sax;
    ok &= nlohmann::json::sax_parse(ex.attest_body, &sax);

    ossl::PKey tee(EVP_PKEY_dup(curve.get()));
    ok &= tee && EVP_PKEY_set1_encoded_public_key(tee.get(), point.data(), point.size()) == 1;
    ossl::PKeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, tee.get(), nullptr));
    ok &= check && EVP_PKEY_public_check_quick(check.get()) == 1;

    ossl::MdCtx md(EVP_MD_CTX_new());
    uint8_t sig[80];
    size_t sig_len = sizeof(sig);
    ok &= md && EVP_DigestSignInit(md.get(), nullptr, sha256, nullptr, token_key.get()) == 1 &&
          EVP_DigestSign(md.get(), sig, &sig_len,
                         reinterpret_cast<const uint8_t*>(signing_input.data()),
                         signing_input.size()) == 1;

    ossl::PKey ephemeral = GenerateFrom(curve.get());
    ossl::PKeyCtx derive(ephemeral ? EVP_PKEY_CTX_new_from_pkey(nullptr, ephemeral.get(), nullptr)
                                   : nullptr);
    uint8_t z[32];
    size_t z_len = sizeof(z);
    ok &= derive && EVP_PKEY_derive_init(derive.get()) == 1 &&
          EVP_PKEY_derive_set_peer_ex(derive.get(), tee.get(), /*validate_peer=*/0) == 1 &&
          EVP_PKEY_derive(derive.get(), z, &z_len) == 1;
    uint8_t kdf_in[4 + 32 + 64], kek[32];  // counter || Z || OtherInfo (algorithm, lengths)
    std::memcpy(kdf_in + 4, z, sizeof(z));
    ok &= EVP_Digest(kdf_in, sizeof(kdf_in), kek, nullptr, sha256, nullptr) == 1;

    uint8_t cek[32 + 12], wrapped[40], ciphertext[64], tag[16];
    ok &= RAND_bytes(cek, sizeof(cek)) == 1;
    int len = 0;
    std::unique_ptr<EVP_CIPHER_CTX, ossl::Deleter<EVP_CIPHER_CTX_free>> c(EVP_CIPHER_CTX_new());
    ok &= c && EVP_EncryptInit_ex2(c.get(), wrap, kek, nullptr, nullptr) == 1 &&
          EVP_EncryptUpdate(c.get(), wrapped, &len, cek, 32) == 1;
    ok &= EVP_EncryptInit_ex2(c.get(), gcm, cek, cek + 32, nullptr) == 1 &&
          EVP_EncryptUpdate(c.get(), nullptr, &len,
                            reinterpret_cast<const uint8_t*>(protected_header.data()),
                            static_cast<int>(protected_header.size())) == 1 &&
          EVP_EncryptUpdate(c.get(), ciphertext, &len,
                            reinterpret_cast<const uint8_t*>(secret.data()),
                            static_cast<int>(secret.size())) == 1 &&
          EVP_EncryptFinal_ex(c.get(), ciphertext + len, &len) == 1 &&
          EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_GET_TAG, sizeof(tag), tag) == 1;
    benchmark::DoNotOptimize(tag);
  }
  if (!ok) return state.SkipWithError("an OpenSSL call failed");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RpProtocolFloor);

// A session cookie as the guest's Cookie header carries it, and cvm-rp's Set-Cookie value for
// it (KbsService::SessionCookie).
const std::string& CookieValue() {
  static const std::string value =
      std::string(evidence::kKbsSessionCookie) + "=" + std::string(32, 'a');
  return value;
}
const std::string& SetCookieValue() {
  static const std::string value = CookieValue() + "; Expires=Mon, 30 Nov 2026 18:05:00 GMT";
  return value;
}

// The HTTP/1.1 messages of one exchange on one kept connection: the three requests as a guest's
// libcurl sends them and cvm-rp's three responses, bodies from a real exchange.
struct Wire {
  std::string requests[3], responses[3];
};

Wire WireOf(const Exchange& ex) {
  auto request = [](std::string_view line, std::string_view extra, const std::string& body) {
    std::string r = std::string(line) +
                    " HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: cvm-agent/0.1\r\n"
                    "Accept: */*\r\n" +
                    std::string(extra);
    if (!body.empty()) {
      r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n";
    }
    return r + "\r\n" + body;
  };
  auto response = [](std::string_view extra, const std::string& body) {
    return "HTTP/1.1 200 OK\r\nServer: cvm-rp\r\nContent-Type: application/json\r\n" +
           std::string(extra) + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
           body;
  };
  const std::string cookie = "Cookie: " + CookieValue() + "\r\n";
  const std::string set_cookie = "Set-Cookie: " + SetCookieValue() + "\r\n";
  Wire w;
  w.requests[0] = request("POST /kbs/v0/auth", "", ex.auth_body);
  w.requests[1] = request("POST /kbs/v0/attest", cookie, ex.attest_body);
  w.requests[2] = request("GET " + ex.resource_target, cookie, "");
  w.responses[0] = response(set_cookie, ex.challenge_body);
  w.responses[1] = response(set_cookie, ex.token_body);
  w.responses[2] = response("", ex.jwe_body);
  return w;
}

// A blocking byte stream over a connected socket, or TLS on it.
struct Stream {
  int fd = -1;
  SSL* ssl = nullptr;

  Stream() = default;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream() {
    if (ssl != nullptr) SSL_free(ssl);
    if (fd >= 0) ::close(fd);
  }

  // The guest's end: 127.0.0.1:port with TCP_NODELAY (as libcurl sets it), then TLS when
  // `tls` is a client context.
  bool Connect(uint16_t port, SSL_CTX* tls) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    int one = 1;
    if (fd < 0 || ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
        ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return false;
    }
    return tls == nullptr || Secure(tls, SSL_connect);
  }
  // The server's end: the next connection on `listener` (TCP_NODELAY, as cvm-rp sets it), then
  // TLS when `tls` is a server context.
  bool Accept(int listener, SSL_CTX* tls) {
    fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    int one = 1;
    if (fd < 0 || ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
      return false;
    }
    return tls == nullptr || Secure(tls, SSL_accept);
  }
  bool Secure(SSL_CTX* tls, int (*handshake)(SSL*)) {
    ssl = SSL_new(tls);
    return ssl != nullptr && SSL_set_fd(ssl, fd) == 1 && handshake(ssl) == 1;
  }
  bool ReadExactly(size_t n) {
    char buf[16384];
    while (n > 0) {
      size_t want = std::min(n, sizeof(buf));
      ssize_t got =
          ssl != nullptr ? SSL_read(ssl, buf, static_cast<int>(want)) : ::read(fd, buf, want);
      if (got <= 0) return false;
      n -= static_cast<size_t>(got);
    }
    return true;
  }
  // Reads until what came ends with `suffix` (a response whose body is known).
  bool ReadUntilSuffix(std::string_view suffix) {
    std::string got;
    char buf[16384];
    while (got.size() < suffix.size() ||
           std::string_view(got).substr(got.size() - suffix.size()) != suffix) {
      ssize_t n = ssl != nullptr ? SSL_read(ssl, buf, static_cast<int>(sizeof(buf)))
                                 : ::read(fd, buf, sizeof(buf));
      if (n <= 0) return false;
      got.append(buf, static_cast<size_t>(n));
    }
    return true;
  }
  bool WriteAll(const std::string& data) {
    if (ssl != nullptr) return SSL_write(ssl, data.data(), static_cast<int>(data.size())) > 0;
    for (size_t off = 0; off < data.size();) {
      ssize_t put = ::write(fd, data.data() + off, data.size() - off);
      if (put <= 0) return false;
      off += static_cast<size_t>(put);
    }
    return true;
  }
};

int Listen(uint16_t* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(fd, 64) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

using SslCtx = std::unique_ptr<SSL_CTX, ossl::Deleter<SSL_CTX_free>>;

// The transport of an exchange, served the cheapest way: a blocking accept on loopback, each
// request read as the bytes it is known to have (no HTTP parsing), each response written, close
// (with TLS: the handshake first, and close_notify). A guest thread runs exchanges against it
// back to back; only the serving thread's CPU time counts. `tls`: TLS 1.3 with a P-256
// certificate and no session tickets, OpenSSL's defaults otherwise (X25519 key exchange).
void TransportFloor(benchmark::State& state, bool tls) {
  const Exchange& ex = RealExchange();
  if (!ex.error.empty()) return state.SkipWithError(ex.error.c_str());
  const Wire wire = WireOf(ex);
  SslCtx server_ctx, client_ctx;
  testing::TempDir dir;
  if (tls) {
    testing::WriteTlsFiles(dir.File("tls.crt"), dir.File("tls.key"));
    server_ctx.reset(SSL_CTX_new(TLS_server_method()));
    client_ctx.reset(SSL_CTX_new(TLS_client_method()));
    if (!server_ctx || !client_ctx ||
        SSL_CTX_use_certificate_chain_file(server_ctx.get(), dir.File("tls.crt").c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(server_ctx.get(), dir.File("tls.key").c_str(),
                                    SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_set_num_tickets(server_ctx.get(), 0) != 1) {
      return state.SkipWithError("TLS context");
    }
  }
  uint16_t port = 0;
  int listener = Listen(&port);
  if (listener < 0) return state.SkipWithError("no loopback listener");
  std::atomic<bool> stop{false};
  std::thread guest([&] {
    while (!stop.load()) {
      Stream s;
      bool ok = s.Connect(port, client_ctx.get());
      for (int i = 0; ok && i < 3; ++i) {
        ok = s.WriteAll(wire.requests[i]) && s.ReadExactly(wire.responses[i].size());
      }
    }
  });
  bool ok = true;
  for (auto _ : state) {
    Stream s;
    ok = s.Accept(listener, server_ctx.get());
    for (int i = 0; ok && i < 3; ++i) {
      ok = s.ReadExactly(wire.requests[i].size()) && s.WriteAll(wire.responses[i]);
    }
    if (ok && s.ssl != nullptr) SSL_shutdown(s.ssl);
    if (!ok) break;
  }
  stop = true;
  ::shutdown(listener, SHUT_RDWR);
  ::close(listener);
  guest.join();
  if (!ok) return state.SkipWithError("an exchange failed");
  state.SetItemsProcessed(state.iterations());
}

// cvm-rp's own HTTP(S) server (rp/http_server.h, Beast, 2 threads) with a handler that answers
// the exchange's three requests with the real responses at once: the transport as cvm-rp serves
// it, without the KBS handlers. The benchmark's thread is the guest; the counter
// server_cpu_ms is the CPU time of every other thread of the process (the server's) per exchange,
// to hold against BM_RpTransportFloor / BM_RpTlsTransportFloor.
void ServerTransport(benchmark::State& state, bool tls) {
  const Exchange& ex = RealExchange();
  if (!ex.error.empty()) return state.SkipWithError(ex.error.c_str());
  const Wire wire = WireOf(ex);
  testing::TempDir dir;
  HttpServerOptions options;
  options.listeners.push_back({"127.0.0.1", 0, tls});
  options.threads = 2;
  SslCtx client_ctx;
  if (tls) {
    testing::WriteTlsFiles(dir.File("tls.crt"), dir.File("tls.key"));
    options.tls_cert_file = dir.File("tls.crt");
    options.tls_key_file = dir.File("tls.key");
    client_ctx.reset(SSL_CTX_new(TLS_client_method()));
    if (!client_ctx) return state.SkipWithError("TLS context");
  }
  auto server = HttpServer::Start(options, [&](const HttpIn& in) {
    HttpOut out;
    out.content_type = "application/json";
    if (in.target == "/kbs/v0/auth") {
      out.body = ex.challenge_body;
      out.headers.emplace_back("Set-Cookie", SetCookieValue());
    } else if (in.target == "/kbs/v0/attest") {
      out.body = ex.token_body;
      out.headers.emplace_back("Set-Cookie", SetCookieValue());
    } else {
      out.body = ex.jwe_body;
    }
    return out;
  });
  if (!server.ok()) return state.SkipWithError(server.status().ToString().c_str());
  const uint16_t port = (*server)->ports()[0];
  const std::string* bodies[3] = {&ex.challenge_body, &ex.token_body, &ex.jwe_body};
  auto cpu = [](clockid_t clock) {
    timespec ts{};
    ::clock_gettime(clock, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
  };
  double others = cpu(CLOCK_PROCESS_CPUTIME_ID) - cpu(CLOCK_THREAD_CPUTIME_ID);
  bool ok = true;
  for (auto _ : state) {
    Stream s;
    ok = s.Connect(port, client_ctx.get());
    for (int i = 0; ok && i < 3; ++i) {
      ok = s.WriteAll(wire.requests[i]) && s.ReadUntilSuffix(*bodies[i]);
    }
    if (!ok) break;
  }
  others = cpu(CLOCK_PROCESS_CPUTIME_ID) - cpu(CLOCK_THREAD_CPUTIME_ID) - others;
  (*server)->Stop();
  if (!ok) return state.SkipWithError("an exchange failed");
  state.counters["server_cpu_ms"] = benchmark::Counter(others, benchmark::Counter::kAvgIterations);
  state.SetItemsProcessed(state.iterations());
}

void BM_RpHttpServerTransport(benchmark::State& state) { ServerTransport(state, false); }
void BM_RpHttpsServerTransport(benchmark::State& state) { ServerTransport(state, true); }
BENCHMARK(BM_RpHttpServerTransport)->UseRealTime();
BENCHMARK(BM_RpHttpsServerTransport)->UseRealTime();

// rp_transport_floor / rp_tls_transport_floor.
void BM_RpTransportFloor(benchmark::State& state) { TransportFloor(state, /*tls=*/false); }
void BM_RpTlsTransportFloor(benchmark::State& state) { TransportFloor(state, /*tls=*/true); }
BENCHMARK(BM_RpTransportFloor);
BENCHMARK(BM_RpTlsTransportFloor);

}  // namespace
}  // namespace cvm::rp
