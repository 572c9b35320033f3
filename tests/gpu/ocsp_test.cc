// OCSP for GPU-chain intermediates against an in-process responder built on OpenSSL's OCSP
// signing (no network): a chain root -> ICA -> BROM -> leaf shaped like NVIDIA's, each
// intermediate answered by its issuer, and the responder made to misbehave.
#include "gpu/ocsp.h"

#include <openssl/ocsp.h>

#include <catch2/catch.hpp>
#include <map>

#include "common/keys.h"
#include "gpu/sim.h"
#include "gpu/verify.h"

namespace cvm::gpu {
namespace {

struct Node {
  ossl::PKey key;
  std::optional<Certificate> cert;
};

TimePoint Now() { return std::chrono::system_clock::now(); }

Node Issue(const std::string& cn, uint64_t serial, bool ca, const Node* issuer) {
  Node n;
  auto key = GenerateEcKey(Curve::kP384);
  REQUIRE(key.ok());
  n.key = std::move(*key);
  CertSpec spec;
  spec.subject = {{"CN", cn}, {"O", "Test"}};
  spec.serial = serial;
  spec.not_before = Now() - std::chrono::hours(24);
  spec.not_after = Now() + std::chrono::hours(24 * 365);
  spec.is_ca = ca;
  if (ca) spec.key_usage = "critical,keyCertSign,cRLSign,digitalSignature";
  auto cert = IssueCertificate(spec, n.key.get(), issuer ? &*issuer->cert : nullptr,
                               issuer ? issuer->key.get() : n.key.get());
  REQUIRE(cert.ok());
  n.cert = std::move(*cert);
  return n;
}

struct Pki {
  Node root = Issue("Test Device Identity CA", 1, true, nullptr);
  Node ica = Issue("Test Provisioner ICA", 2, true, &root);
  Node brom = Issue("Test GSP BROM", 3, true, &ica);
  Node leaf = Issue("Test GSP FMC LF", 4, false, &brom);
  std::vector<Certificate> Chain() const { return {*leaf.cert, *brom.cert, *ica.cert, *root.cert}; }
};
Pki& P() {
  static Pki p;
  return p;
}

// An OCSP responder in process: answers for the ICA (signed by the root) and the BROM (signed
// by the ICA), with the status and misbehaviour the test sets.
class FakeResponder final : public HttpClient {
 public:
  int requests = 0;
  std::map<std::string, int> revoked;  // serial hex -> CRL reason
  bool drop_nonce = false;
  bool wrong_signer = false;
  bool offline = false;
  std::string last_url;

  Result<HttpResponse> Send(const HttpRequest& request) override {
    ++requests;
    last_url = request.url;
    if (offline) return Unavailable("connection refused: " + request.url);
    const unsigned char* p = request.body.data();
    std::unique_ptr<OCSP_REQUEST, ossl::Deleter<OCSP_REQUEST_free>> req(
        d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(request.body.size())));
    REQUIRE(req);
    OCSP_CERTID* id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req.get(), 0));
    ASN1_INTEGER* serial = nullptr;
    REQUIRE(OCSP_id_get0_info(nullptr, nullptr, nullptr, &serial, id) == 1);
    long s = ASN1_INTEGER_get(serial);
    const Node& signer = wrong_signer ? P().leaf : (s == 2 ? P().root : P().ica);
    std::unique_ptr<OCSP_BASICRESP, ossl::Deleter<OCSP_BASICRESP_free>> bs(OCSP_BASICRESP_new());
    ossl::Asn1Time now(X509_gmtime_adj(nullptr, 0));
    ossl::Asn1Time next(X509_gmtime_adj(nullptr, 3600));
    std::string hex = s == 2 ? P().ica.cert->SerialHex() : P().brom.cert->SerialHex();
    auto r = revoked.find(hex);
    int status = r == revoked.end() ? V_OCSP_CERTSTATUS_GOOD : V_OCSP_CERTSTATUS_REVOKED;
    REQUIRE(OCSP_basic_add1_status(bs.get(), id, status, r == revoked.end() ? 0 : r->second,
                                   now.get(), now.get(), next.get()) != nullptr);
    if (!drop_nonce) REQUIRE(OCSP_copy_nonce(bs.get(), req.get()) == 1);
    REQUIRE(OCSP_basic_sign(bs.get(), signer.cert->get(), signer.key.get(), EVP_sha384(), nullptr,
                            0) == 1);
    std::unique_ptr<OCSP_RESPONSE, ossl::Deleter<OCSP_RESPONSE_free>> resp(
        OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs.get()));
    unsigned char* der = nullptr;
    int n = i2d_OCSP_RESPONSE(resp.get(), &der);
    REQUIRE(n > 0);
    HttpResponse out;
    out.status = 200;
    out.body.assign(der, der + n);
    OPENSSL_free(der);
    return out;
  }
};

OcspOptions Options(FakeResponder& http, OcspCache* cache = nullptr) {
  OcspOptions o;
  o.http = &http;
  o.url = "http://127.0.0.1:9/ocsp";
  o.at = Now();
  o.anchors = {*P().root.cert};
  o.cache = cache;
  return o;
}

TEST_CASE("OCSP asks about each intermediate, neither the leaf nor the root, and all are good") {
  FakeResponder http;
  auto r = CheckChainOcsp(P().Chain(), Options(http));
  REQUIRE(r.ok());
  CHECK(r->empty());
  CHECK(http.requests == 2);
  CHECK(http.last_url == "http://127.0.0.1:9/ocsp");
}

TEST_CASE("OCSP answers are cached until their nextUpdate") {
  FakeResponder http;
  OcspCache cache;
  REQUIRE(CheckChainOcsp(P().Chain(), Options(http, &cache)).ok());
  REQUIRE(CheckChainOcsp(P().Chain(), Options(http, &cache)).ok());
  CHECK(http.requests == 2);
  CHECK(cache.size() == 2);
  OcspOptions later = Options(http, &cache);
  later.at = Now() + std::chrono::hours(2);  // past nextUpdate: asked again, and now stale
  auto r = CheckChainOcsp(P().Chain(), later);
  REQUIRE(r.ok());
  CHECK(http.requests == 4);
}

TEST_CASE("A revoked intermediate is named with its revocation reason") {
  FakeResponder http;
  http.revoked[P().brom.cert->SerialHex()] = OCSP_REVOKED_STATUS_KEYCOMPROMISE;
  auto r = CheckChainOcsp(P().Chain(), Options(http));
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  CHECK((*r)[0].find("Test GSP BROM") != std::string::npos);
  CHECK((*r)[0].find("revoked (keyCompromise)") != std::string::npos);
}

TEST_CASE("certificateHold is refused unless allowed") {
  FakeResponder http;
  http.revoked[P().ica.cert->SerialHex()] = OCSP_REVOKED_STATUS_CERTIFICATEHOLD;
  auto r = CheckChainOcsp(P().Chain(), Options(http));
  REQUIRE(r.ok());
  CHECK(r->size() == 1);
  OcspOptions hold = Options(http);
  hold.allow_hold = true;
  auto allowed = CheckChainOcsp(P().Chain(), hold);
  REQUIRE(allowed.ok());
  CHECK(allowed->empty());
}

TEST_CASE("An OCSP answer signed by an unauthorised key or without the nonce is refused") {
  FakeResponder forged;
  forged.wrong_signer = true;
  auto r = CheckChainOcsp(P().Chain(), Options(forged));
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].find("does not verify") != std::string::npos);
  FakeResponder replay;
  replay.drop_nonce = true;
  auto n = CheckChainOcsp(P().Chain(), Options(replay));
  REQUIRE(n.ok());
  REQUIRE(n->size() == 2);
  CHECK((*n)[0].find("nonce") != std::string::npos);
}

TEST_CASE("An unreachable OCSP responder is an error, and a GPU verdict asked for OCSP fails") {
  FakeResponder http;
  http.offline = true;
  auto r = CheckChainOcsp(P().Chain(), Options(http));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kUnavailable);

  auto sim = SimGpu::Create(SimGpuOptions{});
  REQUIRE(sim.ok());
  Bytes nonce(32, 9);
  VerifyOptions o;
  o.at = Now();
  o.nonce = nonce;
  o.device_anchors = {sim->root()};
  auto plain = VerifyGpu(sim->Evidence(nonce), o);
  REQUIRE(plain.ok());
  CHECK(plain->verified);
  CHECK_FALSE(plain->ocsp_checked);
  OcspOptions oo = Options(http);
  o.ocsp = &oo;
  auto v = VerifyGpu(sim->Evidence(nonce), o);
  REQUIRE(v.ok());
  CHECK_FALSE(v->verified);
  REQUIRE_FALSE(v->reasons.empty());
  CHECK(v->reasons[0].find("OCSP could not be checked") != std::string::npos);
}

}  // namespace
}  // namespace cvm::gpu
