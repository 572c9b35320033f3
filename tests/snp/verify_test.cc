#include "snp/verify.h"

#include <catch2/catch.hpp>

#include "common/encoding.h"
#include "common/keys.h"
#include "snp/roots.h"
#include "tests/snp/fixtures.h"
#include "tests/testing/testing.h"

namespace cvm::snp {
namespace {

using testing::RealVector;
using testing::VectorTime;

VerifyOptions Opts(std::vector<Certificate> certs, TimePoint at = VectorTime()) {
  VerifyOptions o;
  o.certs = std::move(certs);
  o.at = at;
  return o;
}

VerifyOptions SimOpts(const SimSnp& sim) {
  VerifyOptions o;
  o.certs = {sim.vcek(), sim.ask()};
  o.roots = {sim.ark()};
  o.at = std::chrono::system_clock::now();  // the simulated chain is valid from a day ago
  return o;
}

TEST_CASE("Every real report verifies with its VCEK and the built-in AMD roots") {
  for (const auto& v : testing::RealVectors()) {
    INFO(v.name);
    auto r = VerifyReport(v.report, Opts(v.certs));
    REQUIRE(r.ok());
    CHECK(r->product == v.product);
    CHECK(r->signing_key == SigningKey::kVcek);
  }
}

TEST_CASE("A real report verifies with only its VCEK: AMD's intermediates are built in") {
  auto v = RealVector("genoa-v3");
  CHECK(VerifyReport(v.report, Opts({v.certs[0]})).ok());
}

TEST_CASE("A flipped bit anywhere in the signed bytes or the signature is rejected") {
  auto v = RealVector("milan-v2");
  // Fields whose change still parses: data, measurement, ids, TCBs, chip id, signature r and s.
  for (size_t off : {0x004u, 0x010u, 0x050u, 0x090u, 0x0C0u, 0x140u, 0x180u, 0x1A0u, 0x1E0u, 0x1F0u,
                     0x2A0u, 0x2C0u, 0x2E8u, 0x317u}) {
    Bytes b = v.report;
    b[off] ^= 0x01;
    auto r = VerifyReport(b, Opts(v.certs));
    INFO(off);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == Code::kRejected);
  }
}

TEST_CASE("Every single-bit flip of the signed region is caught by parsing or verification") {
  auto v = RealVector("genoa-v3");
  VerifyOptions o = Opts(v.certs);
  for (size_t bit = 0; bit < kSignedSize * 8; bit += 61) {  // a spread of positions
    Bytes b = v.report;
    b[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    auto r = VerifyReport(b, o);
    INFO(bit);
    CHECK(!r.ok());
  }
}

TEST_CASE("A report with the signature message names the signature") {
  auto v = RealVector("genoa-v3");
  Bytes b = v.report;
  b[0x90] ^= 0x80;
  auto r = VerifyReport(b, Opts(v.certs));
  CHECK(r.status().message().find("report signature does not verify") != std::string::npos);
}

TEST_CASE("A VCEK for another product is rejected naming both products") {
  auto genoa = RealVector("genoa-v3");
  auto milan = RealVector("milan-v2");
  auto r = VerifyReport(genoa.report, Opts(milan.certs));
  CHECK(r.status().code() == Code::kRejected);
  CHECK(r.status().message().find("for Milan but the report is from Genoa") != std::string::npos);
}

TEST_CASE("Among several VCEKs the one for the report's chip is used") {
  auto milan = RealVector("milan-v2");
  auto azure = RealVector("azure-vtpm");
  std::vector<Certificate> certs = {azure.certs[0], milan.certs[0]};
  CHECK(VerifyReport(milan.report, Opts(certs)).ok());
}

TEST_CASE("A real report verifies with its VCEK and AMD's ARK named as root") {
  auto v = RealVector("genoa-v3");
  VerifyOptions o = Opts({v.certs[0]});
  o.roots = {v.certs[2]};
  CHECK(VerifyReport(v.report, o).ok());
}

TEST_CASE("A supplied chain for another product is rejected even though the VCEK is genuine") {
  auto genoa = RealVector("genoa-v3");
  VerifyOptions o =
      Opts({genoa.certs[0], BuiltinChain(Product::kMilan).ask, BuiltinChain(Product::kMilan).ark});
  auto r = VerifyReport(genoa.report, o);
  CHECK(r.status().code() == Code::kRejected);
  CHECK(r.status().message().find("SEV-Milan is for Milan") != std::string::npos);
}

TEST_CASE("A chain to another product's root is rejected") {
  auto genoa = RealVector("genoa-v3");
  VerifyOptions o = Opts({genoa.certs[0]});
  o.roots = {BuiltinChain(Product::kMilan).ark};
  auto r = VerifyReport(genoa.report, o);
  CHECK(r.status().code() == Code::kRejected);
  CHECK(r.status().message().find("certificate chain") != std::string::npos);
}

TEST_CASE("An expired VCEK is rejected at a time after its validity") {
  auto v = RealVector("milan-v2");
  auto r = VerifyReport(v.report, Opts(v.certs, *ParseTime("2030-01-01T00:00:00Z")));
  CHECK(r.status().code() == Code::kRejected);
  CHECK(r.status().message().find("expired") != std::string::npos);
}

TEST_CASE("Without the VCEK the report cannot be verified and the error says what is missing") {
  auto v = RealVector("genoa-v3");
  auto r = VerifyReport(v.report, Opts({v.certs[1]}));
  CHECK(r.status().code() == Code::kInvalidInput);
  CHECK(r.status().message().find("no VCEK") != std::string::npos);
}

TEST_CASE("A simulated report verifies when the simulated ARK is named as root") {
  const SimSnp& sim = testing::SimGenoa();
  auto report = sim.MakeReport(testing::Request());
  REQUIRE(report.ok());
  auto r = VerifyReport(*report, SimOpts(sim));
  REQUIRE(r.ok());
  CHECK(r->product == Product::kGenoa);
  CHECK(r->report.measurement[0] == 0xab);
}

TEST_CASE("A simulated report never verifies with the built-in AMD roots") {
  const SimSnp& sim = testing::SimGenoa();
  auto report = sim.MakeReport(testing::Request());
  REQUIRE(report.ok());
  auto r = VerifyReport(*report,
                        Opts({sim.vcek(), sim.ask(), sim.ark()}, std::chrono::system_clock::now()));
  CHECK(r.status().code() == Code::kRejected);
  CHECK(r.status().message().find("certificate chain") != std::string::npos);
}

TEST_CASE("Simulated Turin v5 and Milan v2 reports verify with their simulated roots") {
  for (const SimSnp* sim : {&testing::SimTurin(), &testing::SimMilan()}) {
    auto report = sim->MakeReport(testing::Request());
    REQUIRE(report.ok());
    auto r = VerifyReport(*report, SimOpts(*sim));
    REQUIRE(r.ok());
    CHECK(r->product == sim->platform().product);
  }
}

TEST_CASE("A VCEK whose TCB differs from REPORTED_TCB is rejected naming the component") {
  const SimSnp& sim = testing::SimGenoa();
  SimPlatform other = sim.platform();
  other.tcb.snp += 1;
  // Same key, other TCB: only the TCB check can tell.
  auto vcek = IssueSimVcek(other, sim.vcek_key(), sim.ask(), sim.ask_key());
  REQUIRE(vcek.ok());
  auto report = sim.MakeReport(testing::Request());
  VerifyOptions o = SimOpts(sim);
  o.certs[0] = *vcek;
  auto r = VerifyReport(*report, o);
  CHECK(r.status().code() == Code::kRejected);
  CHECK(r.status().message().find("snpSPL") != std::string::npos);
}

TEST_CASE("A VCEK with another key is rejected on the signature") {
  const SimSnp& sim = testing::SimGenoa();
  auto key = GenerateEcKey(Curve::kP384);
  auto vcek = IssueSimVcek(sim.platform(), key->get(), sim.ask(), sim.ask_key());
  auto report = sim.MakeReport(testing::Request());
  VerifyOptions o = SimOpts(sim);
  o.certs[0] = *vcek;
  CHECK(VerifyReport(*report, o).status().message().find("signature") != std::string::npos);
}

TEST_CASE("A VCEK for another chip is rejected naming the hwID") {
  const SimSnp& sim = testing::SimTurin();
  Report rep = sim.UnsignedReport(testing::Request());
  rep.chip_id[0] ^= 1;
  auto report = sim.Sign(rep);
  REQUIRE(report.ok());
  auto r = VerifyReport(*report, SimOpts(sim));
  CHECK(r.status().code() == Code::kRejected);
  CHECK(r.status().message().find("hwID") != std::string::npos);
}

TEST_CASE("A report with another REPORTED_TCB than the VCEK is rejected naming the SPL") {
  const SimSnp& sim = testing::SimTurin();
  Report rep = sim.UnsignedReport(testing::Request());
  TcbParts t = DecodeTcb(rep.reported_tcb, Product::kTurin);
  t.fmc += 1;
  rep.reported_tcb = EncodeTcb(t, Product::kTurin);
  auto report = sim.Sign(rep);
  REQUIRE(report.ok());
  auto r = VerifyReport(*report, SimOpts(sim));
  CHECK(r.status().code() == Code::kRejected);
  CHECK(r.status().message().find("fmcSPL") != std::string::npos);
}

TEST_CASE("A masked chip ID skips the hwID check but must be zero") {
  const SimSnp& sim = testing::SimGenoa();
  SimReportRequest q = testing::Request();
  q.mask_chip_id = true;
  auto report = sim.MakeReport(q);
  REQUIRE(report.ok());
  CHECK(VerifyReport(*report, SimOpts(sim)).ok());
  Report rep = sim.UnsignedReport(q);
  rep.chip_id[5] = 1;
  auto bad = sim.Sign(rep);
  CHECK(VerifyReport(*bad, SimOpts(sim)).status().message().find("MASK_CHIP_ID") !=
        std::string::npos);
}

TEST_CASE("A report whose signing key is 'none' is rejected") {
  const SimSnp& sim = testing::SimGenoa();
  Report rep = sim.UnsignedReport(testing::Request());
  rep.signer_info = 7u << 2;
  auto report = sim.Sign(rep);
  CHECK(VerifyReport(*report, SimOpts(sim)).status().message().find("not signed") !=
        std::string::npos);
}

TEST_CASE("A CRL from the root that lists the ASK rejects the chain") {
  const SimSnp& sim = testing::SimGenoa();
  auto report = sim.MakeReport(testing::Request());
  auto now = std::chrono::system_clock::now();
  uint64_t ask_serial = 0x10001;
  auto crl =
      IssueCrl(sim.ark(), sim.ark_key(), std::span<const uint64_t>(&ask_serial, 1),
               now - std::chrono::hours(1), now + std::chrono::hours(24), DigestAlg::kSha384);
  REQUIRE(crl.ok());
  VerifyOptions o = SimOpts(sim);
  o.crls = {*crl};
  auto r = VerifyReport(*report, o);
  CHECK(r.status().code() == Code::kRejected);
  CHECK(r.status().message().find("revoked") != std::string::npos);
  auto empty = IssueCrl(sim.ark(), sim.ark_key(), {}, now - std::chrono::hours(1),
                        now + std::chrono::hours(24), DigestAlg::kSha384);
  o.crls = {*empty};
  CHECK(VerifyReport(*report, o).ok());
}

TEST_CASE("The built-in ARKs are AMD's (SHA-256 fingerprints from formats.md)") {
  CHECK(HexEncode(BuiltinChain(Product::kMilan).ark.Fingerprint(DigestAlg::kSha256))
            .rfind("69d063b4", 0) == 0);
  CHECK(HexEncode(BuiltinChain(Product::kGenoa).ark.Fingerprint(DigestAlg::kSha256))
            .rfind("4c6598d1", 0) == 0);
  CHECK(HexEncode(BuiltinChain(Product::kTurin).ark.Fingerprint(DigestAlg::kSha256))
            .rfind("1f084161", 0) == 0);
  CHECK(BuiltinChain(Product::kGenoa).asvk.CommonName() == "SEV-VLEK-Genoa");
}

}  // namespace
}  // namespace cvm::snp
