#include "tests/rp/rp_fixture.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "common/file_util.h"
#include "common/keys.h"
#include "common/x509.h"
#include "rp/policy.h"
#include "rp/resources.h"

namespace cvm::rp::testing {

const char kGoodMeasurement[] =
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aa";

const char kTestPolicy[] = R"(version: 1
default:
  tee: [snp, tdx]
  snp_measurements:
    - aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
  min_tcb: {bootloader: 3, snp: 8}
  max_evidence_age: 60s
resources:
  "default/strict/*":
    tee: [snp]
    snp_measurements:
      - bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
)";

nlohmann::json GoodEvidence() {
  return {{"measurement", kGoodMeasurement}, {"tcb", {{"bootloader", 3}, {"snp", 8}}}};
}

namespace {

void Die(const Status& s, const char* what) {
  std::fprintf(stderr, "rp fixture: %s: %s\n", what, s.ToString().c_str());
  std::abort();
}

}  // namespace

RpFixture::RpFixture(RpOptions options) {
  ca_file_ = dir.File("tls.crt");
  WriteTlsFiles(ca_file_, dir.File("tls.key"));
  audit_file_ = dir.File("audit.log");
  auto a = AuditLog::Open(audit_file_, clock);
  if (!a.ok()) Die(a.status(), "audit");
  audit = std::move(a).value();
  auto policy = ParsePolicy(options.policy, "test-policy.yaml");
  if (!policy.ok()) Die(policy.status(), "policy");
  auto store = std::make_shared<ResourceStore>();
  auto add = [&](const char* path, std::string_view value) {
    Status s = store->Add(path, SecretBytes(Bytes(value.begin(), value.end())));
    if (!s.ok()) Die(s, "resource");
  };
  add("default/key/disk", kDiskSecret);
  add("default/strict/one", "strict-secret");
  sessions = std::make_unique<SessionStore>(clock, std::chrono::seconds(300), 100000);
  ServiceOptions so;
  so.diagnostic_header = options.diagnostic_header;
  service = std::make_unique<KbsService>(clock, *sessions, appraiser, sealer, signer, *audit, so,
                                         std::make_shared<const Policy>(std::move(policy).value()),
                                         store);
  HttpServerOptions ho;
  ho.listeners = {Listener{"127.0.0.1", 0, false}, Listener{"127.0.0.1", 0, true}};
  ho.tls_cert_file = ca_file_;
  ho.tls_key_file = dir.File("tls.key");
  ho.threads = options.threads;
  ho.max_body = options.max_body;
  ho.read_timeout = std::chrono::seconds(10);
  KbsService* svc = service.get();
  auto s = HttpServer::Start(ho, [svc](const HttpIn& in) { return svc->Handle(in); });
  if (!s.ok()) Die(s.status(), "server");
  server = std::move(s).value();
  auto ports = server->ports();
  http_base_ = "http://127.0.0.1:" + std::to_string(ports[0]);
  https_base_ = "https://127.0.0.1:" + std::to_string(ports[1]);
}

RpFixture::~RpFixture() {
  if (server) server->Stop();
}

std::string RpFixture::AuditText() const {
  auto text = ReadTextFile(audit_file_);
  return text.ok() ? *text : std::string();
}

std::vector<nlohmann::json> RpFixture::Audit() const {
  std::vector<nlohmann::json> out;
  std::istringstream in(AuditText());
  for (std::string line; std::getline(in, line);) {
    out.push_back(nlohmann::json::parse(line, nullptr, false));
  }
  return out;
}

nlohmann::json RpFixture::LastAudit(const std::string& event) const {
  auto records = Audit();
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    if (it->is_object() && it->value("event", "") == event) return *it;
  }
  return nullptr;
}

}  // namespace cvm::rp::testing
