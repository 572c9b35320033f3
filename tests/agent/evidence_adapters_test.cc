// The production EvidenceSource and Attester on the simulated SEV-SNP platform, in process.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "agent/collect_source.h"
#include "agent/kbs_attester.h"
#include "common/file_util.h"
#include "evidence/bundle.h"
#include "snp/sim.h"
#include "tests/agent/agent_fixture.h"
#include "tests/testing/testing.h"

namespace cvm::agent {
namespace {

using cvm::testing::TempDir;
using nlohmann::json;

// One simulated platform for the whole binary (creating one costs two RSA-4096 keys).
snp::SimSnp CreateSim(const std::string& dir) {
  auto s = snp::SimSnp::Create(snp::SimPlatform{}, dir);
  if (!s.ok()) FAIL(s.status().ToString());
  return std::move(s).value();
}
struct SimFixture {
  TempDir dir;
  snp::SimSnp sim{CreateSim(dir.File("sim"))};
  std::string state() const { return dir.File("sim"); }
};
SimFixture& Sim() {
  static SimFixture fixture;
  return fixture;
}

Config SimConfig(const std::string& state) {
  Config c;
  c.tee = TeeSetting::kSimSnp;
  c.sim_state_dir = state;
  return c;
}

Platform SimulatedPlatform() {
  Platform p;
  p.kind = TeeKind::kSimSnp;
  p.simulated = true;
  return p;
}

std::shared_ptr<EvidenceCollector> OpenSim() {
  auto c = EvidenceCollector::Open(SimConfig(Sim().state()), SimulatedPlatform());
  REQUIRE(c.ok());
  return *c;
}

evidence::BundleVerifyOptions SimRoot() {
  evidence::BundleVerifyOptions o;
  o.at = SystemClock::Get().Now();
  o.snp_roots = {Sim().sim.ark()};
  return o;
}

// Counts requests and answers none of them.
class CountingHttp final : public HttpClient {
 public:
  explicit CountingHttp(int* count) : count_(count) {}
  Result<HttpResponse> Send(const HttpRequest& request) override {
    ++*count_;
    return Unavailable("connection refused: " + request.url);
  }

 private:
  int* count_;
};

TEST_CASE("The evidence source binds the caller's nonce in a bundle the simulated root verifies") {
  auto source = NewCollectEvidenceSource(OpenSim());
  EvidenceRequest req;
  req.runtime_data = json{{"nonce", "abcdefgh12"}};
  auto text = source->Collect(req);
  REQUIRE(text.ok());
  auto bundle = evidence::ParseBundle(*text);
  REQUIRE(bundle.ok());
  CHECK(bundle->tee == evidence::TeeKind::kSnp);
  REQUIRE(bundle->runtime_data.has_value());
  CHECK((*bundle->runtime_data)["nonce"] == "abcdefgh12");
  auto options = SimRoot();
  options.expected_nonce = "abcdefgh12";
  auto verdict = evidence::VerifyBundle(*bundle, options);
  REQUIRE(verdict.ok());
  INFO(verdict->ToJson().dump());
  CHECK(verdict->verified);
  options.expected_nonce = "another-nonce";
  verdict = evidence::VerifyBundle(*bundle, options);
  REQUIRE(verdict.ok());
  CHECK_FALSE(verdict->verified);
}

TEST_CASE("The evidence source in raw mode puts exactly the caller's 64 bytes in REPORT_DATA") {
  auto source = NewCollectEvidenceSource(OpenSim());
  EvidenceRequest req;
  std::array<uint8_t, 64> raw{};
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<uint8_t>(i * 7 + 1);
  req.report_data = raw;
  auto text = source->Collect(req);
  REQUIRE(text.ok());
  auto bundle = evidence::ParseBundle(*text);
  REQUIRE(bundle.ok());
  CHECK_FALSE(bundle->runtime_data.has_value());
  REQUIRE(bundle->report_data_raw.has_value());
  CHECK(*bundle->report_data_raw == Bytes(raw.begin(), raw.end()));
  auto options = SimRoot();
  options.expected_report_data = Bytes(raw.begin(), raw.end());
  auto verdict = evidence::VerifyBundle(*bundle, options);
  REQUIRE(verdict.ok());
  INFO(verdict->ToJson().dump());
  CHECK(verdict->verified);
}

TEST_CASE("The evidence source refuses runtime data other than a string nonce") {
  auto source = NewCollectEvidenceSource(OpenSim());
  for (const json& rt :
       {json{{"nonce", 5}}, json{{"nonce", "abcdefgh"}, {"extra", "x"}}, json::array()}) {
    EvidenceRequest req;
    req.runtime_data = rt;
    auto text = source->Collect(req);
    REQUIRE_FALSE(text.ok());
    CHECK(text.status().code() == Code::kInvalidInput);
  }
}

TEST_CASE("The evidence collector refuses a simulator directory that holds no state") {
  TempDir empty;
  auto c = EvidenceCollector::Open(SimConfig(empty.path()), SimulatedPlatform());
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == Code::kUnavailable);
  CHECK(c.status().message().find(empty.path()) != std::string::npos);
}

TEST_CASE("The KBS attester gives up at the deadline without contacting the relying party") {
  Config config = SimConfig(Sim().state());
  config.relying_parties.push_back(RelyingPartyConfig{"http://127.0.0.1:9", "", "", "", ""});
  int requests = 0;
  KbsAttesterDeps deps;
  deps.new_http = [&requests] {
    return Result<std::unique_ptr<HttpClient>>(std::make_unique<CountingHttp>(&requests));
  };
  auto attester = NewKbsAttester(config, OpenSim(), deps);
  REQUIRE(attester.ok());
  auto outcome = (*attester)->Attest(config.relying_parties[0], {"default/key/app"},
                                     SystemClock::Get().Now() - std::chrono::seconds(1));
  REQUIRE_FALSE(outcome.ok());
  CHECK(outcome.status().code() == Code::kDeadlineExceeded);
  CHECK(requests == 0);
}

TEST_CASE("The KBS attester reports a relying party it cannot reach as unavailable") {
  Config config = SimConfig(Sim().state());
  config.relying_parties.push_back(RelyingPartyConfig{"http://127.0.0.1:9", "", "", "", ""});
  int requests = 0;
  KbsAttesterDeps deps;
  deps.new_http = [&requests] {
    return Result<std::unique_ptr<HttpClient>>(std::make_unique<CountingHttp>(&requests));
  };
  auto attester = NewKbsAttester(config, OpenSim(), deps);
  REQUIRE(attester.ok());
  auto outcome = (*attester)->Attest(config.relying_parties[0], {"default/key/app"},
                                     SystemClock::Get().Now() + std::chrono::seconds(30));
  REQUIRE_FALSE(outcome.ok());
  CHECK(outcome.status().code() == Code::kUnavailable);
  CHECK(outcome.status().message().find("127.0.0.1:9") != std::string::npos);
  CHECK(requests >= 1);
}

TEST_CASE("The KBS attester refuses to start with a token key that is not a public key") {
  TempDir dir;
  REQUIRE(WriteFileAtomic(dir.File("token.pub"), std::string_view("not a key\n")).ok());
  Config config = SimConfig(Sim().state());
  config.relying_parties.push_back(
      RelyingPartyConfig{"http://127.0.0.1:9", "", "", "", dir.File("token.pub")});
  KbsAttesterDeps deps;
  deps.new_http = testing::HelperHttp();
  auto attester = NewKbsAttester(config, OpenSim(), deps);
  REQUIRE_FALSE(attester.ok());
  CHECK(attester.status().ToString().find("token.pub") != std::string::npos);
}

}  // namespace
}  // namespace cvm::agent
