#include "tdx/pcs.h"

#include <catch2/catch.hpp>
#include <map>

#include "common/clock.h"
#include "common/encoding.h"
#include "tdx/sim.h"
#include "tdx/tcb.h"

namespace cvm::tdx {
namespace {

const TimePoint kNow = *ParseTime("2026-03-01T00:00:00Z");

const SimTdx& Sim() {
  static const SimTdx* sim = [] {
    auto s = SimTdx::Create(kNow);
    REQUIRE(s.ok());
    return new SimTdx(std::move(*s));
  }();
  return *sim;
}

std::string PercentEncode(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      out.push_back(c);
    } else {
      // Two appends rather than "%" + HexEncode(...): GCC 12 -O3 reports a false -Wrestrict in
      // the inlined operator+(const char*, std::string&&).
      out.push_back('%');
      out += HexEncode(Bytes{static_cast<uint8_t>(c)});
    }
  }
  return out;
}

// Serves canned responses by URL, as Intel's PCS would.
class FakePcs final : public HttpClient {
 public:
  std::map<std::string, HttpResponse> responses;
  std::vector<std::string> requested;
  Result<HttpResponse> Send(const HttpRequest& request) override {
    requested.push_back(request.url);
    auto it = responses.find(request.url);
    if (it == responses.end()) return HttpResponse{404, {}, {}};
    return it->second;
  }
};

FakePcs ServeSimCollateral(const std::string& base) {
  Collateral c = *Sim().MakeCollateral(kNow);
  FakePcs pcs;
  auto signed_body = [](const char* key, const std::string& text, const Bytes& sig) {
    return ToBytes(AsBytes("{\"" + std::string(key) + "\": " + text + ", \"signature\":\"" +
                           HexEncode(sig) + "\"}"));
  };
  pcs.responses[base +
                "/tdx/certification/v4/tcb?fmspc=" + HexEncode(Sim().pck_extensions().fmspc)] = {
      200,
      {{"tcb-info-issuer-chain", PercentEncode(c.tcb_info_issuer_chain)}},
      signed_body("tcbInfo", c.tcb_info, c.tcb_info_signature)};
  pcs.responses[base + "/tdx/certification/v4/qe/identity"] = {
      200,
      {{"sgx-enclave-identity-issuer-chain", PercentEncode(c.qe_identity_issuer_chain)}},
      signed_body("enclaveIdentity", c.qe_identity, c.qe_identity_signature)};
  pcs.responses[base + "/sgx/certification/v4/pckcrl?ca=platform&encoding=der"] = {
      200, {{"sgx-pck-crl-issuer-chain", PercentEncode(c.pck_crl_issuer_chain)}}, c.pck_crl};
  pcs.responses["http://127.0.0.1:1/root.der"] = {200, {}, c.root_ca_crl};
  return pcs;
}

TEST_CASE("Collateral fetched from a PCCS verifies and evaluates like collateral from a file") {
  const std::string base = "http://127.0.0.1:1";
  FakePcs pcs = ServeSimCollateral(base);
  PcsOptions o;
  o.base_url = base;
  o.root_crl_url = "http://127.0.0.1:1/root.der";
  auto c = FetchCollateral(pcs, Sim().pck(), Sim().pck_extensions(), o);
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  CHECK(pcs.requested.size() == 4);
  auto v = VerifyCollateral(*c, {Sim().root()}, kNow);
  INFO(v.status().ToString());
  REQUIRE(v.ok());
  auto quote = ParseQuote(*Sim().MakeQuote({}));
  REQUIRE(quote.ok());
  auto e = EvaluateTcb(*quote, Sim().pck_extensions(), *v);
  REQUIRE(e.ok());
  CHECK(e->status == TcbStatus::kUpToDate);
}

TEST_CASE("A PCS error status makes the collateral unavailable") {
  FakePcs pcs;  // answers 404 to everything
  PcsOptions o;
  o.base_url = "http://127.0.0.1:1";
  auto c = FetchCollateral(pcs, Sim().pck(), Sim().pck_extensions(), o);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == Code::kUnavailable);
  CHECK(c.status().message().find("HTTP 404") != std::string::npos);
}

TEST_CASE("A PCS response without its issuer chain header is refused") {
  const std::string base = "http://127.0.0.1:1";
  FakePcs pcs = ServeSimCollateral(base);
  for (auto& [url, resp] : pcs.responses) resp.headers.clear();
  PcsOptions o;
  o.base_url = base;
  auto c = FetchCollateral(pcs, Sim().pck(), Sim().pck_extensions(), o);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message().find("TCB-Info-Issuer-Chain") != std::string::npos);
}

}  // namespace
}  // namespace cvm::tdx
