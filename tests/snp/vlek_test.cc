// VLEK-signed reports: VLEK -> ASVK -> ARK, a cspId instead of a hwID, and usually a masked
// CHIP_ID (as on AWS). The chain is minted here under the simulated Genoa ARK.
#include <catch2/catch.hpp>

#include "common/keys.h"
#include "common/signature.h"
#include "snp/vcek.h"
#include "snp/verify.h"
#include "tests/snp/fixtures.h"

namespace cvm::snp {
namespace {

struct VlekPki {
  ossl::PKey asvk_key, vlek_key;
  Certificate asvk, vlek;
};

const VlekPki& Pki() {
  static const VlekPki* pki = [] {
    const SimSnp& sim = testing::SimGenoa();
    auto asvk_key = GenerateRsaKey(2048);  // the shape matters less than the speed here
    auto vlek_key = GenerateEcKey(Curve::kP384);
    CertSpec ca;
    ca.subject = {{"CN", "SEV-VLEK-Genoa"}};
    ca.serial = 7;
    ca.not_before = std::chrono::system_clock::now() - std::chrono::hours(24);
    ca.not_after = ca.not_before + std::chrono::hours(24 * 365);
    ca.is_ca = true;
    ca.key_usage = "critical,keyCertSign,cRLSign";
    ca.rsa_pss = true;
    auto asvk = IssueCertificate(ca, asvk_key->get(), &sim.ark(), sim.ark_key());
    CertSpec leaf = ca;
    leaf.subject = {{"CN", "SEV-VLEK"}};
    leaf.is_ca = false;
    leaf.key_usage = "";
    TcbParts t = sim.platform().tcb;
    leaf.extensions = {{kOidProductName, EncodeDerIa5String("Genoa"), false},
                       {kOidBlSpl, EncodeDerInteger(t.bootloader), false},
                       {kOidTeeSpl, EncodeDerInteger(t.tee), false},
                       {kOidSnpSpl, EncodeDerInteger(t.snp), false},
                       {kOidUcodeSpl, EncodeDerInteger(t.microcode), false},
                       {kOidCspId, EncodeDerIa5String("CN=cloud.example"), false}};
    auto vlek = IssueCertificate(leaf, vlek_key->get(), &*asvk, asvk_key->get());
    return new VlekPki{std::move(*asvk_key), std::move(*vlek_key), *asvk, *vlek};
  }();
  return *pki;
}

// A Genoa report signed by the VLEK, with CHIP_ID masked.
Bytes VlekReport(bool mask = true) {
  SimReportRequest q = testing::Request();
  q.mask_chip_id = mask;
  q.vmpl = 1;
  Report r = testing::SimGenoa().UnsignedReport(q);
  r.signer_info |= 1u << 2;  // SIGNING_KEY = VLEK
  Bytes bytes = SerializeReport(r);
  auto der =
      SignEcdsaDer(Pki().vlek_key.get(), DigestAlg::kSha384, ByteSpan(bytes).first(kSignedSize));
  auto raw = EcdsaDerToRaw(*der, 48);
  for (size_t i = 0; i < 48; ++i) {
    bytes[kSignatureOffset + i] = (*raw)[47 - i];
    bytes[kSignatureOffset + kSignatureComponentSize + i] = (*raw)[95 - i];
  }
  return bytes;
}

VerifyOptions Opts() {
  VerifyOptions o;
  o.certs = {Pki().vlek, Pki().asvk};
  o.roots = {testing::SimGenoa().ark()};
  o.at = std::chrono::system_clock::now();  // the simulated chain is valid from a day ago
  return o;
}

TEST_CASE("A VLEK-signed report with a masked chip ID verifies through the ASVK") {
  auto r = VerifyReport(VlekReport(), Opts());
  REQUIRE(r.ok());
  CHECK(r->signing_key == SigningKey::kVlek);
  CHECK(r->endorsement.csp_id == "CN=cloud.example");
  CHECK(r->report.vmpl == 1);
}

TEST_CASE("A VLEK-signed report needs the VLEK, not a VCEK") {
  VerifyOptions o = Opts();
  o.certs = {testing::SimGenoa().vcek(), testing::SimGenoa().ask()};
  auto r = VerifyReport(VlekReport(), o);
  CHECK(r.status().code() == Code::kInvalidInput);
  CHECK(r.status().message().find("no VLEK") != std::string::npos);
}

TEST_CASE("A VCEK report cannot be passed off with a VLEK") {
  auto report = testing::SimGenoa().MakeReport(testing::Request());
  VerifyOptions o = Opts();
  auto r = VerifyReport(*report, o);
  CHECK(!r.ok());
}

}  // namespace
}  // namespace cvm::snp
