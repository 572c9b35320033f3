// What cvm-rp's own code costs per KBS exchange without a transport: the three requests of an
// exchange (POST auth, POST attest with simulated SNP evidence, GET resource) handed to
// KbsService::Handle in-process, with cvm-rp's production adapters (FromTrusteeEvidence +
// VerifyBundle, the ES256 token, the ECDH-ES+A256KW JWE), its policy, sessions and audit file,
// configured as scripts/bench configures the cvm-rp it loads. The guest's side (signing a report
// for the nonce, its TEE key, the attestation JSON) runs with the timer paused.
//
// scripts/bench puts BM_RpServiceExchange next to BM_BundleVerifySimSnp (bench_evidence): the
// verification an exchange contains, with the same evidence. Both report CPU time.
#include <benchmark/benchmark.h>

#include <fstream>
#include <optional>

#include "common/clock.h"
#include "evidence/collect.h"
#include "evidence/jose.h"
#include "evidence/kbs.h"
#include "evidence/trustee.h"
#include "rp/audit.h"
#include "rp/config.h"
#include "rp/evidence_adapters.h"
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

// rp_service_exchange: one exchange's three requests through KbsService::Handle. The timer is
// paused while the guest signs its report for the nonce and builds the attestation.
void BM_RpServiceExchange(benchmark::State& state) {
  Relying& rp = Rp();
  if (!rp.error.empty()) return state.SkipWithError(rp.error.c_str());
  const std::string auth_body =
      R"({"version":"0.4.0","tee":"snp","extra-params":"","supported-hash-algorithms":["sha384"]})";
  evidence::CollectPlatform platform;
  platform.sim_snp = &*rp.sim;
  for (auto _ : state) {
    HttpIn auth;
    auth.method = "POST";
    auth.target = "/kbs/v0/auth";
    auth.body = auth_body;
    auth.client = "127.0.0.1:1";
    HttpOut challenge = rp.service->Handle(auth);

    state.PauseTiming();
    if (challenge.status != 200 || challenge.headers.empty()) {
      return state.SkipWithError("auth refused");
    }
    auto parsed = evidence::ParseKbsChallenge(challenge.body);
    auto cookie = evidence::SessionIdFromSetCookie(challenge.headers[0].second);
    auto tee_key = evidence::TeeKeyPair::Generate();
    if (!parsed.ok() || !cookie.ok() || !*cookie || !tee_key.ok()) {
      return state.SkipWithError("no challenge");
    }
    evidence::CollectRequest request;
    request.kind = evidence::CollectKind::kSimSnp;
    request.sim_dir = rp.dir.File("sim");
    request.nonce = parsed->nonce;
    request.tee_pubkey = tee_key->PublicJwk();
    request.hash = DigestAlg::kSha384;
    auto bundle = evidence::Collect(request, platform);
    auto trustee = bundle.ok() ? evidence::ToTrusteeEvidence(*bundle)
                               : Result<evidence::TrusteeEvidence>(bundle.status());
    if (!trustee.ok()) return state.SkipWithError("no evidence");
    evidence::KbsAttestation attestation;
    attestation.nonce = parsed->nonce;
    attestation.tee_pubkey = request.tee_pubkey;
    attestation.primary_evidence = std::move(trustee->primary);
    attestation.additional_evidence = std::move(trustee->additional);
    HttpIn attest;
    attest.method = "POST";
    attest.target = "/kbs/v0/attest";
    attest.cookie = std::string(evidence::kKbsSessionCookie) + "=" + **cookie;
    attest.body = evidence::ToJson(attestation).dump();
    attest.client = auth.client;
    HttpIn resource;
    resource.method = "GET";
    resource.target = "/kbs/v0/resource/default/key/app";
    resource.cookie = attest.cookie;
    resource.client = auth.client;
    state.ResumeTiming();

    HttpOut token = rp.service->Handle(attest);
    HttpOut jwe = rp.service->Handle(resource);

    state.PauseTiming();
    if (token.status != 200) return state.SkipWithError("attest refused");
    if (jwe.status != 200 || !tee_key->Decrypt(jwe.body).ok()) {
      return state.SkipWithError("no resource sealed to the TEE key");
    }
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RpServiceExchange);

}  // namespace
}  // namespace cvm::rp
