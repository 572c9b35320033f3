// Collect -> VerifyBundle with the simulators and a fake TPM, and every tampering rejected.
#include "evidence/collect.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/chain_cache.h"
#include "common/digest.h"
#include "common/encoding.h"
#include "common/file_util.h"
#include "common/tcg_eventlog.h"
#include "evidence/init_data.h"
#include "evidence/trustee.h"
#include "snp/sim.h"
#include "tdx/sim.h"
#include "tests/evidence/sims.h"
#include "tests/testing/fake_tpm.h"
#include "tests/testing/testing.h"
#include "tests/tpm/hcl_util.h"
#include "tpm/hcl.h"

namespace cvm::evidence {
namespace {

using nlohmann::json;

const json kKey = {{"kty", "EC"},
                   {"crv", "P-256"},
                   {"alg", "ECDH-ES+A256KW"},
                   {"x", "p99tUVzkQLPubx7e0ZHNVHBnxIAFi2mtakO9cGsNoBA"},
                   {"y", "N7-qCNC6sxHBFkx65Anp3n1VXfLpKnWyPvXWuB4w4R0"}};
constexpr char kNonce[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

cvm::testing::SnpSim& Snp() { return cvm::testing::SharedSnpSim(); }
cvm::testing::TdxSim& Tdx() { return cvm::testing::SharedTdxSim(); }

CollectRequest SnpRequest(bool tpm) {
  CollectRequest r;
  r.kind = CollectKind::kSimSnp;
  r.sim_dir = Snp().dir.path();
  r.nonce = kNonce;
  r.tee_pubkey = kKey;
  r.include_tpm = tpm;
  return r;
}

BundleVerifyOptions SnpOptions() {
  BundleVerifyOptions o;
  o.at = std::chrono::system_clock::now();
  o.snp_roots = {Snp().sim->ark()};
  o.expected_nonce = kNonce;
  o.expected_tee_pubkey = kKey;
  return o;
}

// Puts a log's measurements into the fake TPM, so a quote matches the log.
void ExtendLog(tpm::FakeTpm& fake, const tcg::EventLog& log) {
  for (const auto& e : log.events) {
    if (e.type == tcg::kEvNoAction) continue;
    std::map<DigestAlg, Bytes> d;
    for (const auto& dg : e.digests) {
      if (auto alg = tcg::DigestAlgFromTpm(dg.alg_id)) d[*alg] = dg.digest;
    }
    REQUIRE(fake.ExtendPcr(e.index, d).ok());
  }
}

bool HasReason(const BundleVerdict& v, std::string_view needle) {
  for (const auto& r : v.reasons) {
    if (r.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::string Reasons(const BundleVerdict& v) {
  std::string s;
  for (const auto& r : v.reasons) s += r + "\n";
  return s;
}

BundleVerdict Verify(const Bundle& b, const BundleVerifyOptions& o) {
  auto v = VerifyBundle(b, o);
  REQUIRE(v.ok());
  return *v;
}

TEST_CASE("Simulated SNP evidence with a vTPM collects and verifies") {
  tpm::FakeTpm fake;
  CollectPlatform p;
  p.tpm = &fake;
  auto b = Collect(SnpRequest(true), p);
  REQUIRE(b.ok());
  REQUIRE(b->tpm.has_value());
  auto v = Verify(*b, SnpOptions());
  INFO(Reasons(v));
  CHECK(v.verified);
  CHECK(v.claims.simulated_root);
  CHECK(v.claims.pcrs.at(DigestAlg::kSha256).size() == 24);
  // REPORT_DATA is the padded SHA-384 of the runtime data.
  CHECK(v.claims.report_data.size() == 64);
  CHECK(IsAllZero(ByteSpan(v.claims.report_data).subspan(48)));
}

TEST_CASE("A loaded simulator is used instead of its directory, and the time is accounted") {
  tpm::FakeTpm fake;
  CollectPlatform p;
  p.tpm = &fake;
  p.sim_snp = &*Snp().sim;
  CollectTimings timings;
  p.timings = &timings;
  CollectRequest r = SnpRequest(true);
  r.sim_dir = "/nonexistent/cvm-agent-sim";  // would fail if it were read
  auto b = Collect(r, p);
  REQUIRE(b.ok());
  CHECK(timings.tee.count() > 0);
  CHECK(timings.tpm.count() > 0);
  ChainCache cache;
  BundleVerifyOptions o = SnpOptions();
  o.chain_cache = &cache;
  CHECK(Verify(*b, o).verified);
  CHECK(Verify(*b, o).verified);
  CHECK(cache.hits() == 1);
}

TEST_CASE("A collected bundle verifies again after its JSON round trip") {
  tpm::FakeTpm fake;
  CollectPlatform p;
  p.tpm = &fake;
  auto b = Collect(SnpRequest(true), p);
  REQUIRE(b.ok());
  auto parsed = ParseBundle(ToJson(*b).dump());
  REQUIRE(parsed.ok());
  CHECK(Verify(*parsed, SnpOptions()).verified);
}

TEST_CASE("A collected bundle converts to Trustee evidence and back and still verifies") {
  tpm::FakeTpm fake;
  CollectPlatform p;
  p.tpm = &fake;
  auto b = Collect(SnpRequest(true), p);
  REQUIRE(b.ok());
  auto t = ToTrusteeEvidence(*b);
  REQUIRE(t.ok());
  auto back = FromTrusteeEvidence(TeeKind::kSnp, t->primary, t->additional, DigestAlg::kSha384,
                                  kNonce, kKey);
  REQUIRE(back.ok());
  CHECK(back->report == b->report);
  auto v = Verify(*back, SnpOptions());
  INFO(Reasons(v));
  CHECK(v.verified);
}

TEST_CASE("Tampering with any part of a collected SNP bundle is rejected") {
  tpm::FakeTpm fake;
  CollectPlatform p;
  p.tpm = &fake;
  auto collected = Collect(SnpRequest(true), p);
  REQUIRE(collected.ok());
  const Bundle good = *collected;

  SECTION("a report byte") {
    Bundle b = good;
    b.report[0x90] ^= 1;
    CHECK(HasReason(Verify(b, SnpOptions()), "snp"));
  }
  SECTION("the TPM quote") {
    Bundle b = good;
    b.tpm->attest[b.tpm->attest.size() - 1] ^= 1;
    CHECK(HasReason(Verify(b, SnpOptions()), "tpm quote"));
  }
  SECTION("a PCR value") {
    Bundle b = good;
    b.tpm->pcrs[DigestAlg::kSha256][3][0] ^= 1;
    CHECK(HasReason(Verify(b, SnpOptions()), "tpm quote"));
  }
  SECTION("the nonce") {
    auto o = SnpOptions();
    o.expected_nonce = "another nonce";
    CHECK(HasReason(Verify(good, o), "nonce"));
    Bundle b = good;
    (*b.runtime_data)["nonce"] = "another nonce";
    o.expected_nonce = "another nonce";
    CHECK(HasReason(Verify(b, o), "REPORT_DATA"));
  }
  SECTION("the TEE key") {
    auto o = SnpOptions();
    json other = kKey;
    other["x"] = "AAAA";
    o.expected_tee_pubkey = other;
    CHECK(HasReason(Verify(good, o), "tee-pubkey"));
    Bundle b = good;
    (*b.runtime_data)["tee-pubkey"] = other;
    CHECK(HasReason(Verify(b, o), "REPORT_DATA"));
  }
  SECTION("another TPM's evidence") {
    tpm::FakeTpm other;
    CollectPlatform op;
    op.tpm = &other;
    auto b2 = Collect(SnpRequest(true), op);
    REQUIRE(b2.ok());
    Bundle b = good;
    b.tpm = b2->tpm;  // a genuine quote with the same nonce, by an AK the report does not bind
    CHECK(HasReason(Verify(b, SnpOptions()), "does not carry this bundle's TPM AK"));
  }
  SECTION("a debug guest") {
    CollectRequest r = SnpRequest(false);
    snp::SimReportRequest launch;
    launch.policy = 0x30000 | (1ull << 19);
    r.sim_snp_launch = launch;
    auto b = Collect(r, p);
    REQUIRE(b.ok());
    CHECK(HasReason(Verify(*b, SnpOptions()), "debug"));
    auto o = SnpOptions();
    o.allow_debug = true;
    CHECK(Verify(*b, o).verified);
  }
  SECTION("the built-in roots only") {
    auto o = SnpOptions();
    o.snp_roots.clear();
    CHECK_FALSE(Verify(good, o).verified);
  }
}

TEST_CASE("The TPM event log must replay to the quoted PCRs") {
  tpm::FakeTpm fake;
  Bytes log = cvm::testing::ReadData("vectors/tpm/rhel8-uefi.bin");
  auto parsed = tcg::ParseEventLog(log);
  REQUIRE(parsed.ok());
  ExtendLog(fake, *parsed);
  cvm::testing::TempDir dir;
  REQUIRE(WriteFileAtomic(dir.File("log.bin"), log).ok());
  CollectPlatform p;
  p.tpm = &fake;
  CollectRequest r = SnpRequest(true);
  r.event_log_path = dir.File("log.bin");
  auto b = Collect(r, p);
  REQUIRE(b.ok());
  CHECK_FALSE(b->tpm->event_log.empty());
  auto v = Verify(*b, SnpOptions());
  INFO(Reasons(v));
  CHECK(v.verified);

  // Change the sha256 digest of the last measured event (TCG_PCR_EVENT2: index, type, count,
  // then {algId, digest} per bank).
  size_t offset = 0;
  for (const auto& e : parsed->events) {
    if (e.type == tcg::kEvNoAction) continue;
    size_t at = e.offset + 12;
    for (const auto& d : e.digests) {
      if (d.alg_id == tcg::kAlgSha256) offset = at + 2;
      at += 2 + d.digest.size();
    }
  }
  REQUIRE(offset != 0);
  Bundle tampered = *b;
  tampered.tpm->event_log[offset + 14] ^= 1;
  auto tv = Verify(tampered, SnpOptions());
  CHECK(HasReason(tv, "tpm event log"));
}

TEST_CASE("Simulated TDX evidence collects and verifies with its collateral") {
  CollectRequest r;
  r.kind = CollectKind::kSimTdx;
  r.sim_dir = Tdx().dir.path();
  r.nonce = kNonce;
  r.tee_pubkey = kKey;
  CollectPlatform p;
  auto b = Collect(r, p);
  REQUIRE(b.ok());
  CHECK_FALSE(b->collateral.empty());
  BundleVerifyOptions o;
  o.at = std::chrono::system_clock::now();
  o.tdx_roots = {Tdx().sim->root()};
  o.expected_nonce = kNonce;
  o.expected_tee_pubkey = kKey;
  auto v = Verify(*b, o);
  INFO(Reasons(v));
  CHECK(v.verified);
  CHECK(v.claims.product == "TDX");
  CHECK(v.claims.tcb_status.has_value());

  Bundle tampered = *b;
  tampered.report[0x100] ^= 1;
  CHECK(HasReason(Verify(tampered, o), "tdx"));
}

// Azure IMDS as far as Collect uses it: THIM answers with the simulated VCEK.
class FakeImds final : public HttpClient {
 public:
  explicit FakeImds(std::string vcek_pem) : vcek_pem_(std::move(vcek_pem)) {}
  Result<HttpResponse> Send(const HttpRequest& request) override {
    HttpResponse r;
    if (request.url != kImdsThimUrl) {
      r.status = 404;
      return r;
    }
    r.status = 200;
    std::string body = json{{"vcekCert", vcek_pem_}, {"certificateChain", ""}}.dump();
    r.body.assign(body.begin(), body.end());
    return r;
  }

 private:
  std::string vcek_pem_;
};

// Gives the fake vTPM Azure's persistent AK and returns the paravisor's runtime claims for this
// test's runtime data: the AK as HCLAkPub and the runtime-data digest as user data.
std::string AzureClaims(tpm::FakeTpm& fake) {
  fake.AddPersistentAk(tpm::kAzureAkHandle, tpm::AkAlg::kRsa2048);
  tpm::AkOptions ak_options;
  ak_options.persistent_handle = tpm::kAzureAkHandle;
  auto ak = fake.ReadAk(ak_options);
  REQUIRE(ak.ok());
  auto digest = RuntimeDataDigest(DigestAlg::kSha384, kNonce, kKey, "");
  REQUIRE(digest.ok());
  return cvm::testing::HclClaims(ak->key.get(), PadReportData(*digest));
}

// An Azure SNP VM: the paravisor's HCL report for this test's runtime data (claims with the AK
// and the user data, and a simulated SNP report whose REPORT_DATA is SHA-256(claims)) in the fake
// vTPM's NV index, and IMDS serving the VCEK.
struct AzureSnpVm {
  tpm::FakeTpm fake;
  FakeImds imds{Snp().sim->vcek().Pem()};
  CollectPlatform p;
  CollectRequest r;
  AzureSnpVm() {
    std::string claims = AzureClaims(fake);
    Bytes hcl = cvm::testing::MakeHcl(claims);
    snp::SimReportRequest req;
    Bytes claims_hash = Sha256(AsBytes(claims));
    std::copy(claims_hash.begin(), claims_hash.end(), req.report_data.begin());
    auto report = Snp().sim->MakeReport(req);
    REQUIRE(report.ok());
    std::copy(report->begin(), report->end(), hcl.begin() + tpm::kHclHardwareReportOffset);
    REQUIRE(fake.NvWrite(tpm::kHclReportNvIndex, hcl).ok());
    p.tpm = &fake;
    p.imds = &imds;
    p.hcl.delay = std::chrono::milliseconds(0);
    p.hcl.sleep = [](std::chrono::milliseconds) {};
    r.kind = CollectKind::kAzSnpVtpm;
    r.nonce = kNonce;
    r.tee_pubkey = kKey;
  }
};

TEST_CASE("Azure SNP evidence collects from the vTPM and IMDS and verifies") {
  AzureSnpVm vm;
  auto& r = vm.r;
  auto& p = vm.p;
  auto b = Collect(r, p);
  REQUIRE(b.ok());
  CHECK(b->tee == TeeKind::kAzSnpVtpm);
  // Azure's ASK is built in; the simulated one is not, so the verifier gets it as a candidate.
  Bundle with_ask = *b;
  with_ask.certs.push_back(Snp().sim->ask().Der());
  auto v = Verify(with_ask, SnpOptions());
  INFO(Reasons(v));
  CHECK(v.verified);
  // The same bundle as Trustee evidence (version 2) and back.
  auto t = ToTrusteeEvidence(*b);
  REQUIRE(t.ok());
  auto back = FromTrusteeEvidence(TeeKind::kAzSnpVtpm, t->primary, t->additional,
                                  DigestAlg::kSha384, kNonce, kKey);
  REQUIRE(back.ok());
  back->certs.push_back(Snp().sim->ask().Der());
  CHECK(Verify(*back, SnpOptions()).verified);

  auto o = SnpOptions();
  Bundle other = with_ask;
  (*other.runtime_data)["nonce"] = "replayed";
  o.expected_nonce = "replayed";
  auto rv = Verify(other, o);
  CHECK(HasReason(rv, "qualifying data"));
  CHECK(HasReason(rv, "user-data"));
}

// Azure IMDS /acc/tdquote: the simulated quoting enclave quotes the TDREPORT it is given.
class FakeTdQuoteImds final : public HttpClient {
 public:
  Result<HttpResponse> Send(const HttpRequest& request) override {
    HttpResponse r;
    if (request.url != kImdsTdQuoteUrl || request.method != "POST") {
      r.status = 404;
      return r;
    }
    json body = json::parse(request.body.begin(), request.body.end());
    CVM_ASSIGN_OR_RETURN(Bytes report, Base64UrlDecode(body.at("report").get<std::string>()));
    CVM_ASSIGN_OR_RETURN(Bytes quote, Tdx().sim->QuoteTdReport(report));
    r.status = 200;
    std::string out = json{{"quote", Base64UrlEncode(quote)}}.dump();
    r.body.assign(out.begin(), out.end());
    return r;
  }
};

TEST_CASE("Azure TDX evidence collects from the vTPM and IMDS and verifies") {
  tpm::FakeTpm fake;
  // The paravisor's HCL report: the claims in a TDREPORT whose REPORTDATA is SHA-256(claims).
  std::string claims = AzureClaims(fake);
  tdx::SimQuoteOptions td;
  td.report_data = Sha256(AsBytes(claims));
  auto td_report = tdx::SimTdx::MakeTdReport(td);
  REQUIRE(td_report.ok());
  REQUIRE(fake.NvWrite(tpm::kHclReportNvIndex, cvm::testing::MakeTdxHcl(claims, *td_report)).ok());

  FakeTdQuoteImds imds;
  CollectPlatform p;
  p.tpm = &fake;
  p.imds = &imds;
  p.hcl.delay = std::chrono::milliseconds(0);
  p.hcl.sleep = [](std::chrono::milliseconds) {};
  CollectRequest r;
  r.kind = CollectKind::kAzTdxVtpm;
  r.nonce = kNonce;
  r.tee_pubkey = kKey;
  auto b = Collect(r, p);
  REQUIRE(b.ok());
  CHECK(b->tee == TeeKind::kAzTdxVtpm);
  REQUIRE_FALSE(b->td_quote.empty());

  BundleVerifyOptions o;
  o.at = std::chrono::system_clock::now();
  o.tdx_roots = {Tdx().sim->root()};
  o.expected_nonce = kNonce;
  o.expected_tee_pubkey = kKey;
  auto collateral = Tdx().sim->MakeCollateral(o.at);
  REQUIRE(collateral.ok());
  o.collateral = tdx::EncodeCollateral(*collateral);
  auto v = Verify(*b, o);
  INFO(Reasons(v));
  CHECK(v.verified);
  CHECK(v.claims.tee == TeeKind::kAzTdxVtpm);
  CHECK(v.claims.measurement == Sha384(AsBytes("cvm-agent simulated TD")));
  CHECK(v.claims.pcrs.at(DigestAlg::kSha256).size() == 24);

  // The same bundle as Trustee evidence (version 2) and back.
  auto t = ToTrusteeEvidence(*b);
  REQUIRE(t.ok());
  auto back = FromTrusteeEvidence(TeeKind::kAzTdxVtpm, t->primary, t->additional,
                                  DigestAlg::kSha384, kNonce, kKey);
  REQUIRE(back.ok());
  CHECK(Verify(*back, o).verified);

  // A genuine quote of another TD does not vouch for this HCL report.
  tdx::SimQuoteOptions other = td;
  other.rtmr[3] = Bytes(48, 0x33);
  Bundle swapped = *b;
  swapped.td_quote = *Tdx().sim->MakeQuote(other);
  CHECK(HasReason(Verify(swapped, o), "the TD quote's RTMR3 differs from the TDREPORT's"));
  // A replayed nonce fails the vTPM quote and the HCL user data, as for SNP.
  auto replay = o;
  replay.expected_nonce = "replayed";
  Bundle replayed = *b;
  (*replayed.runtime_data)["nonce"] = "replayed";
  auto rv = Verify(replayed, replay);
  CHECK(HasReason(rv, "qualifying data"));
  CHECK(HasReason(rv, "user-data"));
}

constexpr char kInitData[] = R"(version = "0.1.0"
algorithm = "sha384"
[data]
"aa.toml" = """
[token_configs.kbs]
url = "https://kbs.example:8080"
"""
"policy.rego" = "package agent_policy"
)";

// A VM whose firmware launched it with HOST_DATA = `host_data` (the host's choice), backed by the
// simulator, as the real SNP provider behaves.
class LaunchedSnp final : public snp::ReportProvider {
 public:
  explicit LaunchedSnp(Bytes host_data) : host_data_(std::move(host_data)) {}
  std::string_view Name() const override { return "launched simulator"; }
  Result<snp::SnpEvidence> GetReport(const std::array<uint8_t, 64>& report_data,
                                     uint32_t vmpl) override {
    snp::SimReportRequest req;
    req.report_data = report_data;
    req.vmpl = vmpl;
    std::copy(host_data_.begin(), host_data_.end(), req.host_data.begin());
    CVM_ASSIGN_OR_RETURN(Bytes report, Snp().sim->MakeReport(req));
    snp::SnpEvidence e;
    e.report = std::move(report);
    return e;
  }

 private:
  Bytes host_data_;
};

TEST_CASE("Init-data sent with SNP evidence is bound by HOST_DATA and its data become claims") {
  CollectPlatform p;
  CollectRequest r = SnpRequest(false);
  r.init_data = InitData{"toml", kInitData};
  auto b = Collect(r, p);
  REQUIRE(b.ok());
  REQUIRE(b->init_data.has_value());
  auto v = Verify(*b, SnpOptions());
  INFO(Reasons(v));
  CHECK(v.verified);
  Bytes digest = Sha384(AsBytes(kInitData));
  CHECK(v.claims.host_data == Bytes(digest.begin(), digest.begin() + 32));
  REQUIRE(v.claims.init_data_claims.has_value());
  CHECK(v.claims.init_data_claims->at("policy.rego") == "package agent_policy");
  CHECK(v.claims.ToJson().contains("init_data_claims"));

  // Other init-data than the VM was launched with: the relying party refuses it.
  Bundle other = *b;
  other.init_data->body += "# changed\n";
  auto ov = Verify(other, SnpOptions());
  CHECK_FALSE(ov.verified);
  CHECK(HasReason(ov, "is not the report's HOST_DATA"));
  // Init-data that is not TOML, or not in the toml format, is a reason too.
  other.init_data->body = "version = ";
  CHECK(HasReason(Verify(other, SnpOptions()), "init-data: not TOML"));
  other.init_data = InitData{"json", "{}"};
  CHECK(HasReason(Verify(other, SnpOptions()), "only toml"));
}

TEST_CASE("Collect refuses init-data that the VM was not launched with, naming both digests") {
  LaunchedSnp launched(Bytes(32, 0xab));
  CollectPlatform p;
  p.snp = &launched;
  CollectRequest r = SnpRequest(false);
  r.kind = CollectKind::kSnp;
  r.init_data = InitData{"toml", kInitData};
  auto b = Collect(r, p);
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().code() == Code::kRejected);
  CHECK(b.status().message().find("HOST_DATA " + HexEncode(Bytes(32, 0xab))) != std::string::npos);
  CHECK(b.status().message().find(HexEncode(RegularizeDigest(Sha384(AsBytes(kInitData)), 32))) !=
        std::string::npos);
}

TEST_CASE("Init-data sent with TDX evidence is bound by MRCONFIGID") {
  CollectRequest r;
  r.kind = CollectKind::kSimTdx;
  r.sim_dir = Tdx().dir.path();
  r.nonce = kNonce;
  r.tee_pubkey = kKey;
  r.init_data = InitData{"toml", kInitData};
  CollectPlatform p;
  auto b = Collect(r, p);
  REQUIRE(b.ok());
  BundleVerifyOptions o;
  o.at = std::chrono::system_clock::now();
  o.tdx_roots = {Tdx().sim->root()};
  o.expected_nonce = kNonce;
  o.expected_tee_pubkey = kKey;
  auto v = Verify(*b, o);
  INFO(Reasons(v));
  CHECK(v.verified);
  CHECK(v.claims.host_data == Sha384(AsBytes(kInitData)));

  Bundle other = *b;
  other.init_data->body = R"(version = "0.1.0"
algorithm = "sha256"
)";
  CHECK(HasReason(Verify(other, o), "is not the report's MRCONFIGID"));
}

TEST_CASE("Init-data sent with Azure vTPM evidence is bound by sha256 PCR 8") {
  AzureSnpVm vm;
  vm.r.init_data = InitData{"toml", kInitData};
  // Not yet extended into PCR 8: Collect says so before anything is sent.
  auto refused = Collect(vm.r, vm.p);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message().find("sha256 PCR 8") != std::string::npos);

  Bytes digest = Sha384(AsBytes(kInitData));
  REQUIRE(vm.fake.ExtendPcr(8, {{DigestAlg::kSha256, Bytes(digest.begin(), digest.begin() + 32)}})
              .ok());
  auto b = Collect(vm.r, vm.p);
  REQUIRE(b.ok());
  Bundle with_ask = *b;
  with_ask.certs.push_back(Snp().sim->ask().Der());
  auto v = Verify(with_ask, SnpOptions());
  INFO(Reasons(v));
  CHECK(v.verified);
  CHECK(v.claims.pcrs.at(DigestAlg::kSha256).at(8) == AzureInitDataPcr8(digest));

  with_ask.init_data->body += "\n";
  CHECK(HasReason(Verify(with_ask, SnpOptions()), "init-data: sha256 PCR 8"));
}

TEST_CASE("Collect refuses a request with both or neither of nonce and raw report data") {
  CollectPlatform p;
  CollectRequest r;
  r.kind = CollectKind::kSimTdx;
  CHECK(Collect(r, p).status().code() == Code::kInvalidInput);
  r.nonce = "n";
  r.report_data_raw = Bytes(64, 0);
  CHECK(Collect(r, p).status().code() == Code::kInvalidInput);
}

TEST_CASE("Collect without the device a kind needs is unavailable") {
  CollectPlatform p;
  CollectRequest r;
  r.kind = CollectKind::kSnp;
  r.nonce = "n";
  CHECK(Collect(r, p).status().code() == Code::kUnavailable);
  r.kind = CollectKind::kAzSnpVtpm;
  CHECK(Collect(r, p).status().code() == Code::kUnavailable);
}

}  // namespace
}  // namespace cvm::evidence
