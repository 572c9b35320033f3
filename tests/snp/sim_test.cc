#include "snp/sim.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "snp/vcek.h"
#include "snp/verify.h"
#include "tests/snp/fixtures.h"
#include "tests/testing/testing.h"

namespace cvm::snp {
namespace {

TEST_CASE("The simulated chain has AMD's shape: RSA-4096 PSS ARK and ASK, P-384 VCEK") {
  const SimSnp& sim = testing::SimGenoa();
  CHECK(sim.ark().CommonName() == "ARK-Genoa");
  CHECK(sim.ask().CommonName() == "SEV-Genoa");
  CHECK(sim.vcek().CommonName() == "SEV-VCEK");
  CHECK(EVP_PKEY_get_bits(sim.ark().PublicKey()->get()) == 4096);
  CHECK(X509_get_signature_nid(sim.ark().get()) == NID_rsassaPss);
  CHECK(X509_get_signature_nid(sim.vcek().get()) == NID_rsassaPss);
  CHECK(sim.vcek().Extension(kOidBlSpl) == EncodeDerInteger(9));
  CHECK(sim.vcek().Extension(kOidProductName) == EncodeDerIa5String("Genoa"));
}

TEST_CASE("The simulated Turin VCEK carries fmcSPL, structVersion 1 and an 8-byte hwID") {
  const SimSnp& sim = testing::SimTurin();
  auto info = ReadEndorsementInfo(sim.vcek());
  REQUIRE(info.ok());
  CHECK(info->struct_version == 1);
  CHECK(info->fmc_spl.has_value());
  CHECK(info->hwid->size() == 8);
  CHECK(!sim.vcek().Extension("1.3.6.1.4.1.3704.1.3.4"));
  CHECK(info->product == Product::kTurin);
}

TEST_CASE("Simulated reports are byte-exact: they parse and serialize back identically") {
  for (const SimSnp* sim : {&testing::SimGenoa(), &testing::SimTurin(), &testing::SimMilan()}) {
    auto bytes = sim->MakeReport(testing::Request());
    REQUIRE(bytes.ok());
    REQUIRE(bytes->size() == kReportSize);
    auto r = ParseReport(*bytes);
    REQUIRE(r.ok());
    CHECK(r->version == sim->platform().report_version);
    CHECK(SerializeReport(*r) == *bytes);
    CHECK(ProductFromCpuid(*r) == (r->version >= 3 ? sim->platform().product : Product::kUnknown));
    CHECK(DecodeTcb(r->reported_tcb, sim->platform().product) == sim->platform().tcb);
  }
}

TEST_CASE("The simulated Turin chip ID is 8 bytes followed by zeros") {
  auto r = ParseReport(*testing::SimTurin().MakeReport(testing::Request()));
  CHECK(IsAllZero(ByteSpan(r->chip_id).subspan(8)));
  CHECK(!IsAllZero(ByteSpan(r->chip_id).first(8)));
}

TEST_CASE("A simulator state directory round-trips and keeps its keys private") {
  cvm::testing::TempDir dir;
  SimPlatform p;
  p.product = Product::kMilan;
  p.report_version = 5;
  // Reuse a generated platform's identity would need the keys; creating one here is the point.
  auto sim = SimSnp::Create(p, dir.path() + "/sim");
  REQUIRE(sim.ok());
  for (const char* key : {"ark.key", "ask.key", "vcek.key"}) {
    struct stat st {};
    REQUIRE(stat((dir.path() + "/sim/" + key).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
  auto loaded = SimSnp::Load(dir.path() + "/sim");
  REQUIRE(loaded.ok());
  CHECK(loaded->platform().chip_id == sim->platform().chip_id);
  CHECK(loaded->platform().report_version == 5);
  auto report = loaded->MakeReport(testing::Request());
  VerifyOptions o;
  o.certs = {loaded->vcek(), loaded->ask()};
  o.roots = {sim->ark()};
  o.at = std::chrono::system_clock::now();  // the simulated chain is valid from a day ago
  CHECK(VerifyReport(*report, o).ok());
}

TEST_CASE("A simulator loaded as firmware signs verifiable reports without the CA keys") {
  cvm::testing::TempDir dir;
  auto sim = SimSnp::Create(SimPlatform{}, dir.path() + "/sim");
  REQUIRE(sim.ok());
  auto firmware = SimSnp::LoadFirmware(dir.path() + "/sim");
  REQUIRE(firmware.ok());
  CHECK(firmware->ark_key() == nullptr);
  CHECK(firmware->ask_key() == nullptr);
  CHECK(firmware->vcek_key() != nullptr);
  CHECK(firmware->platform().chip_id == sim->platform().chip_id);
  auto report = firmware->MakeReport(testing::Request());
  REQUIRE(report.ok());
  VerifyOptions o;
  o.certs = {firmware->vcek(), firmware->ask()};
  o.roots = {sim->ark()};
  o.at = std::chrono::system_clock::now();
  CHECK(VerifyReport(*report, o).ok());
  // The VCEK key and the certificates are still required.
  REQUIRE(::unlink((dir.path() + "/sim/vcek.key").c_str()) == 0);
  auto missing = SimSnp::LoadFirmware(dir.path() + "/sim");
  CHECK(!missing.ok());
  CHECK(missing.status().ToString().find("vcek.key") != std::string::npos);
}

TEST_CASE("Loading a missing state directory names the file") {
  auto r = SimSnp::Load("/nonexistent/cvm-sim");
  CHECK(!r.ok());
  CHECK(r.status().ToString().find("sim.json") != std::string::npos);
}

TEST_CASE("The simulator refuses report versions it does not emit") {
  SimPlatform p;
  p.report_version = 4;
  CHECK(SimSnp::Create(p).status().code() == Code::kInvalidInput);
}

}  // namespace
}  // namespace cvm::snp
