#include "snp/kds.h"

#include <catch2/catch.hpp>
#include <map>

#include "tests/snp/fixtures.h"
#include "tests/testing/testing.h"

namespace cvm::snp {
namespace {

// Answers from a table; counts requests. Never touches the network.
class FakeHttp : public HttpClient {
 public:
  std::map<std::string, HttpResponse> answers;
  int requests = 0;
  Result<HttpResponse> Send(const HttpRequest& req) override {
    ++requests;
    auto it = answers.find(req.url);
    if (it == answers.end()) return HttpResponse{404, {}, {}};
    return it->second;
  }
};

TEST_CASE("The Genoa VCEK URL carries the 64-byte chip ID and two-digit SPLs") {
  auto v = testing::RealVector("genoa-v3");
  Report r = *ParseReport(v.report);
  std::string url = VcekUrl(r, Product::kGenoa);
  CHECK(url.rfind("https://kdsintf.amd.com/vcek/v1/Genoa/b1e24a27", 0) == 0);
  CHECK(url.find("?blSPL=10&teeSPL=00&snpSPL=23&ucodeSPL=84") != std::string::npos);
  CHECK(url.find("?") - url.find("Genoa/") - 6 == 128);
}

TEST_CASE("The Turin VCEK URL uses the 8-byte hwID and puts fmcSPL first") {
  Report r;
  r.chip_id[0] = 0x59;
  r.reported_tcb = 0x5100000004010101ULL;
  std::string url = VcekUrl(r, Product::kTurin);
  CHECK(url ==
        "https://kdsintf.amd.com/vcek/v1/Turin/5900000000000000"
        "?fmcSPL=01&blSPL=01&teeSPL=01&snpSPL=04&ucodeSPL=81");
}

TEST_CASE("Chain and CRL URLs follow KDS paths for VCEK and VLEK") {
  CHECK(CertChainUrl(Product::kMilan, SigningKey::kVcek) ==
        "https://kdsintf.amd.com/vcek/v1/Milan/cert_chain");
  CHECK(CrlUrl(Product::kGenoa, SigningKey::kVlek) == "https://kdsintf.amd.com/vlek/v1/Genoa/crl");
}

TEST_CASE("KDS answers are cached and later served offline") {
  auto v = testing::RealVector("genoa-v3");
  Report r = *ParseReport(v.report);
  cvm::testing::TempDir dir;
  FakeHttp http;
  http.answers[VcekUrl(r, Product::kGenoa)] = {200, {}, v.certs[0].Der()};
  std::string chain = v.certs[1].Pem() + v.certs[2].Pem();
  http.answers[CertChainUrl(Product::kGenoa, SigningKey::kVcek)] = {
      200, {}, Bytes(chain.begin(), chain.end())};
  KdsClient online(&http, dir.path());
  auto certs = FetchVcek(online, r, Product::kGenoa);
  REQUIRE(certs.ok());
  CHECK(certs->vcek.CommonName() == "SEV-VCEK");
  CHECK(certs->chain.size() == 2);
  CHECK(http.requests == 2);
  KdsClient offline(nullptr, dir.path());
  CHECK(FetchVcek(offline, r, Product::kGenoa).ok());
}

TEST_CASE("Offline without a cache entry is not found, naming the URL") {
  Report r = *ParseReport(testing::RealVector("genoa-v3").report);
  KdsClient offline(nullptr, "");
  auto c = FetchVcek(offline, r, Product::kGenoa);
  CHECK(c.status().code() == Code::kNotFound);
  CHECK(c.status().message().find("kdsintf.amd.com/vcek/v1/Genoa") != std::string::npos);
}

TEST_CASE("KDS rate limiting is reported as unavailable with the retry delay") {
  FakeHttp http;
  http.answers["https://kdsintf.amd.com/x"] = {429, {{"retry-after", "30"}}, {}};
  KdsClient kds(&http, "");
  auto r = kds.Get("https://kdsintf.amd.com/x");
  CHECK(r.status().code() == Code::kUnavailable);
  CHECK(r.status().message().find("retry after 30") != std::string::npos);
}

TEST_CASE("A masked chip ID cannot be looked up at KDS") {
  Report r;
  r.signer_info = 2;
  KdsClient kds(nullptr, "");
  CHECK(FetchVcek(kds, r, Product::kGenoa).status().message().find("masked") != std::string::npos);
}

TEST_CASE("Host-supplied certificates are preferred to KDS") {
  auto v = testing::RealVector("genoa-v3");
  Report r = *ParseReport(v.report);
  FakeHttp http;
  KdsClient kds(&http, "");
  std::vector<CertTableEntry> host = {
      {CertKindGuid(CertKind::kVcek), CertKind::kVcek, v.certs[0].Der()},
      {CertKindGuid(CertKind::kAsk), CertKind::kAsk, v.certs[1].Der()}};
  auto certs = EndorsementCerts(host, &kds, r, Product::kGenoa);
  REQUIRE(certs.ok());
  CHECK(certs->size() == 2);
  CHECK(http.requests == 0);
}

TEST_CASE("Without host certificates the VCEK comes from KDS") {
  auto v = testing::RealVector("genoa-v3");
  Report r = *ParseReport(v.report);
  FakeHttp http;
  http.answers[VcekUrl(r, Product::kGenoa)] = {200, {}, v.certs[0].Der()};
  std::string chain = v.certs[1].Pem() + v.certs[2].Pem();
  http.answers[CertChainUrl(Product::kGenoa, SigningKey::kVcek)] = {
      200, {}, Bytes(chain.begin(), chain.end())};
  KdsClient kds(&http, "");
  auto certs = EndorsementCerts({}, &kds, r, Product::kGenoa);
  REQUIRE(certs.ok());
  CHECK(certs->size() == 3);
  CHECK(http.requests == 2);
  CHECK(EndorsementCerts({}, nullptr, r, Product::kGenoa).status().code() == Code::kNotFound);
}

}  // namespace
}  // namespace cvm::snp
