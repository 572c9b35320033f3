#include "common/x509.h"

#include <catch2/catch.hpp>

#include "common/clock.h"
#include "common/encoding.h"
#include "common/keys.h"
#include "tests/testing/testing.h"

namespace cvm {
namespace {

using std::chrono::hours;

TimePoint At(const char* t) { return *ParseTime(t); }

struct Pki {
  ossl::PKey root_key, mid_key, leaf_key;
  Certificate root, mid, leaf;
};

CertSpec Spec(const char* cn, bool ca, const char* from, const char* to, uint64_t serial = 1) {
  CertSpec s;
  s.subject = {{"CN", cn}, {"O", "cvm-agent tests"}};
  s.serial = serial;
  s.not_before = At(from);
  s.not_after = At(to);
  s.is_ca = ca;
  s.key_usage = ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature";
  return s;
}

Pki MakePki(const char* leaf_to = "2030-01-01T00:00:00Z") {
  auto rk = GenerateEcKey(Curve::kP384);
  auto mk = GenerateEcKey(Curve::kP384);
  auto lk = GenerateEcKey(Curve::kP256);
  auto root =
      IssueCertificate(Spec("Test Root", true, "2020-01-01T00:00:00Z", "2040-01-01T00:00:00Z"),
                       rk->get(), nullptr, rk->get());
  REQUIRE(root.ok());
  auto mid =
      IssueCertificate(Spec("Test Mid", true, "2020-01-01T00:00:00Z", "2040-01-01T00:00:00Z", 2),
                       mk->get(), &*root, rk->get());
  REQUIRE(mid.ok());
  auto leaf = IssueCertificate(Spec("Test Leaf", false, "2021-01-01T00:00:00Z", leaf_to, 3),
                               lk->get(), &*mid, mk->get());
  REQUIRE(leaf.ok());
  return {std::move(*rk), std::move(*mk), std::move(*lk), *root, *mid, *leaf};
}

TEST_CASE("A generated chain verifies to its root at a time inside every validity period") {
  Pki p = MakePki();
  ChainOptions o;
  o.at = At("2025-01-01T00:00:00Z");
  std::vector<Certificate> mids = {p.mid}, roots = {p.root};
  CHECK(VerifyChain(p.leaf, mids, roots, o).ok());
  CHECK(p.leaf.CommonName() == "Test Leaf");
  CHECK(p.leaf.Issuer().find("CN=Test Mid") != std::string::npos);
  CHECK(p.leaf.SerialHex() == "03");
}

TEST_CASE("A chain that does not reach the anchor is rejected") {
  Pki p = MakePki();
  Pki other = MakePki();
  ChainOptions o;
  o.at = At("2025-01-01T00:00:00Z");
  std::vector<Certificate> mids = {p.mid}, roots = {other.root};
  Status s = VerifyChain(p.leaf, mids, roots, o);
  CHECK(s.code() == Code::kRejected);
  CHECK(s.message().find("certificate chain:") == 0);
  // Missing intermediate.
  std::vector<Certificate> none, own_root = {p.root};
  CHECK(VerifyChain(p.leaf, none, own_root, o).code() == Code::kRejected);
  CHECK(VerifyChain(p.leaf, mids, none, o).code() == Code::kInvalidInput);
}

TEST_CASE("An expired or not-yet-valid certificate is rejected at the injected time") {
  Pki p = MakePki("2022-01-01T00:00:00Z");
  std::vector<Certificate> mids = {p.mid}, roots = {p.root};
  ChainOptions o;
  o.at = At("2021-06-01T00:00:00Z");
  CHECK(VerifyChain(p.leaf, mids, roots, o).ok());
  o.at = At("2023-01-01T00:00:00Z");
  Status s = VerifyChain(p.leaf, mids, roots, o);
  CHECK(s.code() == Code::kRejected);
  CHECK(s.message().find("expired") != std::string::npos);
  CHECK(s.message().find("Test Leaf") != std::string::npos);
  o.at = At("2020-06-01T00:00:00Z");
  CHECK(VerifyChain(p.leaf, mids, roots, o).message().find("not yet valid") != std::string::npos);
}

TEST_CASE("A certificate with a wrong signature is rejected") {
  Pki p = MakePki();
  // Same issuer name, signed by a different key.
  auto impostor_key = GenerateEcKey(Curve::kP384);
  auto forged =
      IssueCertificate(Spec("Test Leaf", false, "2021-01-01T00:00:00Z", "2030-01-01T00:00:00Z"),
                       p.leaf_key.get(), &p.mid, impostor_key->get());
  REQUIRE(forged.ok());
  std::vector<Certificate> mids = {p.mid}, roots = {p.root};
  ChainOptions o;
  o.at = At("2025-01-01T00:00:00Z");
  CHECK(VerifyChain(*forged, mids, roots, o).code() == Code::kRejected);
  CHECK(VerifyIssuedBy(*forged, p.mid).code() == Code::kRejected);
  CHECK(VerifyIssuedBy(p.leaf, p.mid).ok());
}

TEST_CASE("A revoked certificate is rejected when CRLs are given") {
  Pki p = MakePki();
  std::vector<Certificate> mids = {p.mid}, roots = {p.root};
  ChainOptions o;
  o.at = At("2025-01-01T00:00:00Z");
  uint64_t none[] = {99};
  uint64_t leaf_serial[] = {3};
  auto root_crl = IssueCrl(p.root, p.root_key.get(), none, At("2024-12-01T00:00:00Z"),
                           At("2025-12-01T00:00:00Z"));
  auto mid_crl = IssueCrl(p.mid, p.mid_key.get(), leaf_serial, At("2024-12-01T00:00:00Z"),
                          At("2025-12-01T00:00:00Z"));
  REQUIRE(root_crl.ok());
  REQUIRE(mid_crl.ok());
  CHECK(mid_crl->Lists(p.leaf));
  CHECK_FALSE(root_crl->Lists(p.mid));
  o.crls = {*root_crl, *mid_crl};
  Status s = VerifyChain(p.leaf, mids, roots, o);
  CHECK(s.code() == Code::kRejected);
  CHECK(s.message().find("revoked") != std::string::npos);
  auto clean_mid_crl = IssueCrl(p.mid, p.mid_key.get(), none, At("2024-12-01T00:00:00Z"),
                                At("2025-12-01T00:00:00Z"));
  o.crls = {*root_crl, *clean_mid_crl};
  CHECK(VerifyChain(p.leaf, mids, roots, o).ok());
  auto reparsed = Crl::Parse(clean_mid_crl->Der());
  REQUIRE(reparsed.ok());
  CHECK(reparsed->NextUpdate().has_value());
}

TEST_CASE("Custom extensions are written and read back raw") {
  auto key = GenerateEcKey(Curve::kP384);
  CertSpec s = Spec("ext", false, "2021-01-01T00:00:00Z", "2030-01-01T00:00:00Z");
  s.extensions.push_back({"1.3.6.1.4.1.3704.1.4", Bytes(64, 0xab), false});
  auto c = IssueCertificate(s, key->get(), nullptr, key->get());
  REQUIRE(c.ok());
  auto ext = c->Extension("1.3.6.1.4.1.3704.1.4");
  REQUIRE(ext.has_value());
  CHECK(*ext == Bytes(64, 0xab));
  CHECK_FALSE(c->Extension("1.2.3.4").has_value());
  CHECK_FALSE(c->Extension("not an oid").has_value());
}

TEST_CASE("The real AMD Milan chain verifies: VCEK -> ASK -> ARK (RSA-PSS)") {
  auto vcek = Certificate::FromDer(testing::ReadData("vectors/snp/milan-v2/vcek.der"));
  REQUIRE(vcek.ok());
  auto chain = ParseCertificates(testing::ReadData("vectors/snp/milan-v2/ask_ark.pem"));
  REQUIRE(chain.ok());
  REQUIRE(chain->size() == 2);
  CHECK((*chain)[0].CommonName() == "SEV-Milan");
  CHECK((*chain)[1].CommonName() == "ARK-Milan");
  std::vector<Certificate> mids = {(*chain)[0]}, roots = {(*chain)[1]};
  ChainOptions o;
  o.at = At("2024-01-01T00:00:00Z");
  CHECK(VerifyChain(*vcek, mids, roots, o).ok());
  // The VCEK's hwID extension is 64 raw bytes.
  auto hwid = vcek->Extension("1.3.6.1.4.1.3704.1.4");
  REQUIRE(hwid.has_value());
  CHECK(hwid->size() == 64);
  // The Genoa root does not anchor a Milan chain.
  auto genoa = ParseCertificates(testing::ReadData("vectors/snp/genoa-v3/ark.pem"));
  std::vector<Certificate> genoa_root = {(*genoa)[0]};
  CHECK(VerifyChain(*vcek, mids, genoa_root, o).code() == Code::kRejected);
}

TEST_CASE("The real Intel SGX root parses from PEM") {
  auto certs = ParseCertificates(testing::ReadData("vectors/tdx/intel_sgx_root_ca.pem"));
  REQUIRE(certs.ok());
  CHECK((*certs)[0].CommonName() == "Intel SGX Root CA");
}

TEST_CASE("Malformed certificates are refused with a clear error") {
  CHECK(Certificate::FromDer(Bytes{0x30, 0x82, 0x01}).status().code() == Code::kInvalidInput);
  CHECK(ParseCertificates(AsBytes("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
            .status()
            .code() == Code::kInvalidInput);
  CHECK(ParseCertificates(AsBytes("hello")).status().code() == Code::kInvalidInput);
  Bytes der = testing::ReadData("vectors/snp/milan-v2/vcek.der");
  der.push_back(0);
  CHECK(Certificate::FromDer(der).status().message().find("trailing") != std::string::npos);
  der.resize(der.size() / 2);
  CHECK_FALSE(Certificate::FromDer(der).ok());
  CHECK_FALSE(Crl::Parse(Bytes{1, 2, 3}).ok());
}

}  // namespace
}  // namespace cvm
