#include "common/x509.h"

#include <openssl/x509.h>

#include <catch2/catch.hpp>

#include "common/chain_cache.h"
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

TEST_CASE("A chain check without a verification time is refused, not evaluated at the epoch") {
  Pki p = MakePki();
  ChainOptions o;  // at left unset
  std::vector<Certificate> mids = {p.mid}, roots = {p.root};
  Status s = VerifyChain(p.leaf, mids, roots, o);
  CHECK(s.code() == Code::kInvalidInput);
  CHECK(s.message().find("no verification time") != std::string::npos);
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
  auto next = reparsed->NextUpdate();
  REQUIRE(next.ok());
  CHECK(next->has_value());
}

TEST_CASE("A chain cache answers a chain that verified before, and only that chain") {
  Pki p = MakePki();
  Pki other = MakePki();
  std::vector<Certificate> mids = {p.mid}, roots = {p.root}, other_roots = {other.root};
  ChainCache cache;
  ChainOptions o;
  o.at = At("2025-01-01T00:00:00Z");
  CHECK(VerifyChainCached(&cache, p.leaf, mids, roots, o).ok());
  CHECK(cache.size() == 1);
  CHECK(cache.hits() == 0);
  CHECK(VerifyChainCached(&cache, p.leaf, mids, roots, o).ok());
  CHECK(cache.hits() == 1);
  // Another anchor is another key: verified in full, and rejected.
  CHECK(VerifyChainCached(&cache, p.leaf, mids, other_roots, o).code() == Code::kRejected);
  // A forged leaf with the same names is verified in full, rejected and never remembered.
  auto impostor_key = GenerateEcKey(Curve::kP384);
  auto forged =
      IssueCertificate(Spec("Test Leaf", false, "2021-01-01T00:00:00Z", "2030-01-01T00:00:00Z", 3),
                       p.leaf_key.get(), &p.mid, impostor_key->get());
  REQUIRE(forged.ok());
  CHECK(VerifyChainCached(&cache, *forged, mids, roots, o).code() == Code::kRejected);
  CHECK(VerifyChainCached(&cache, *forged, mids, roots, o).code() == Code::kRejected);
  CHECK(cache.size() == 1);
  CHECK(cache.hits() == 1);
}

TEST_CASE("A chain cache hit is not used outside a validity period of the chain") {
  Pki p = MakePki("2022-01-01T00:00:00Z");
  std::vector<Certificate> mids = {p.mid}, roots = {p.root};
  ChainCache cache;
  ChainOptions o;
  o.at = At("2021-06-01T00:00:00Z");
  CHECK(VerifyChainCached(&cache, p.leaf, mids, roots, o).ok());
  o.at = At("2023-01-01T00:00:00Z");
  Status s = VerifyChainCached(&cache, p.leaf, mids, roots, o);
  CHECK(s.code() == Code::kRejected);
  CHECK(s.message().find("expired") != std::string::npos);
  o.at = At("2020-06-01T00:00:00Z");
  CHECK(VerifyChainCached(&cache, p.leaf, mids, roots, o).message().find("not yet valid") !=
        std::string::npos);
  CHECK(cache.hits() == 0);
}

TEST_CASE("A chain cache keys on the CRLs and honours their update times") {
  Pki p = MakePki();
  std::vector<Certificate> mids = {p.mid}, roots = {p.root};
  uint64_t none[] = {99};
  uint64_t leaf_serial[] = {3};
  auto root_crl = IssueCrl(p.root, p.root_key.get(), none, At("2024-12-01T00:00:00Z"),
                           At("2025-12-01T00:00:00Z"));
  auto clean = IssueCrl(p.mid, p.mid_key.get(), none, At("2024-12-01T00:00:00Z"),
                        At("2025-12-01T00:00:00Z"));
  auto revoking = IssueCrl(p.mid, p.mid_key.get(), leaf_serial, At("2024-12-01T00:00:00Z"),
                           At("2025-12-01T00:00:00Z"));
  REQUIRE(root_crl.ok());
  REQUIRE(clean.ok());
  REQUIRE(revoking.ok());
  ChainCache cache;
  ChainOptions o;
  o.at = At("2025-01-01T00:00:00Z");
  o.crls = {*root_crl, *clean};
  CHECK(VerifyChainCached(&cache, p.leaf, mids, roots, o).ok());
  o.crls = {*root_crl, *revoking};
  CHECK(VerifyChainCached(&cache, p.leaf, mids, roots, o).message().find("revoked") !=
        std::string::npos);
  // Past nextUpdate the remembered success does not apply.
  o.crls = {*root_crl, *clean};
  o.at = At("2026-01-01T00:00:00Z");
  CHECK_FALSE(VerifyChainCached(&cache, p.leaf, mids, roots, o).ok());
  CHECK(cache.hits() == 0);
}

TEST_CASE("A chain cache parses the same certificate bytes once and refuses garbage each time") {
  Pki p = MakePki();
  std::string pem = p.leaf.Pem() + p.mid.Pem();
  ChainCache cache;
  auto first = ParseCertificatesCached(&cache, AsBytes(pem));
  auto second = ParseCertificatesCached(&cache, AsBytes(pem));
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  REQUIRE(second->size() == 2);
  CHECK((*second)[0].Der() == p.leaf.Der());
  CHECK((*second)[1].Der() == p.mid.Der());
  CHECK(cache.parse_hits() == 1);
  Bytes der = p.leaf.Der();
  REQUIRE(CertificateFromDerCached(&cache, der).ok());
  auto again = CertificateFromDerCached(&cache, der);
  REQUIRE(again.ok());
  CHECK(again->Der() == der);
  CHECK(cache.parse_hits() == 2);
  // Errors are the uncached ones and are never remembered.
  Bytes bad = der;
  bad.resize(bad.size() / 2);
  for (int i = 0; i < 2; ++i) {
    CHECK(CertificateFromDerCached(&cache, bad).status().code() == Code::kInvalidInput);
    CHECK(ParseCertificatesCached(&cache, AsBytes(std::string("-----BEGIN CERTIFICATE-----\n"
                                                              "AAAA\n-----END CERTIFICATE-----\n")))
              .status()
              .code() == Code::kInvalidInput);
  }
  CHECK(cache.parse_hits() == 2);
  // nullptr: the plain parsers.
  CHECK(ParseCertificatesCached(nullptr, AsBytes(pem))->size() == 2);
  CHECK(CertificateFromDerCached(nullptr, der).ok());
}

TEST_CASE("A chain cache shares decoded EC keys and never remembers a point off the curve") {
  auto key = GenerateEcKey(Curve::kP256);
  REQUIRE(key.ok());
  auto xy = EcPublicKeyXY(key->get());
  REQUIRE(xy.ok());
  ByteSpan x = ByteSpan(*xy).first(32), y = ByteSpan(*xy).subspan(32);
  ChainCache cache;
  auto a = EcPublicKeyCached(&cache, Curve::kP256, x, y);
  auto b = EcPublicKeyCached(&cache, Curve::kP256, x, y);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(EVP_PKEY_eq(a->get(), key->get()) == 1);
  CHECK(EVP_PKEY_eq(b->get(), key->get()) == 1);
  CHECK(cache.parse_hits() == 1);
  Bytes off_curve_y(y.begin(), y.end());
  off_curve_y.back() ^= 1;
  for (int i = 0; i < 2; ++i) {
    CHECK(EcPublicKeyCached(&cache, Curve::kP256, x, off_curve_y).status().code() ==
          Code::kInvalidInput);
  }
  CHECK(cache.parse_hits() == 1);
  // The same coordinates on another curve are another key (and here the wrong size).
  CHECK_FALSE(EcPublicKeyCached(&cache, Curve::kP384, x, y).ok());
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

// A self-signed CA certificate built with OpenSSL directly, so that its validity period can be
// any X.509 time (CertSpec holds TimePoints, which end in 2262).
Certificate SelfSignedUntil(const EVP_PKEY* key, const char* not_before, const char* not_after) {
  ossl::X509Ptr x(X509_new());
  REQUIRE(x.get() != nullptr);
  REQUIRE(X509_set_version(x.get(), X509_VERSION_3) == 1);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 7);
  REQUIRE(ASN1_TIME_set_string_X509(X509_getm_notBefore(x.get()), not_before) == 1);
  REQUIRE(ASN1_TIME_set_string_X509(X509_getm_notAfter(x.get()), not_after) == 1);
  X509_NAME* name = X509_get_subject_name(x.get());
  REQUIRE(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>("Far Future"), -1, -1,
                                     0) == 1);
  REQUIRE(X509_set_issuer_name(x.get(), name) == 1);
  REQUIRE(X509_set_pubkey(x.get(), const_cast<EVP_PKEY*>(key)) == 1);
  REQUIRE(X509_sign(x.get(), const_cast<EVP_PKEY*>(key), EVP_sha384()) > 0);
  return Certificate(std::move(x));
}

TEST_CASE("Certificates valid until 9999 or 3026 verify and compare correctly in 2026") {
  auto key = GenerateEcKey(Curve::kP384);
  REQUIRE(key.ok());
  TimePoint now = At("2026-06-01T00:00:00Z");
  struct Case {
    const char* not_after;
    const char* formatted;
  } cases[] = {{"99991231235959Z", "9999-12-31T23:59:59Z"},
               {"30260101000000Z", "3026-01-01T00:00:00Z"}};
  for (const Case& c : cases) {
    INFO(c.not_after);
    Certificate cert = SelfSignedUntil(key->get(), "20200101000000Z", c.not_after);
    auto reparsed = Certificate::FromDer(cert.Der());
    REQUIRE(reparsed.ok());
    auto not_after = reparsed->NotAfter();
    REQUIRE(not_after.ok());
    CHECK(FormatTime(*not_after) == c.formatted);
    CHECK_FALSE(IsBefore(*not_after, now));
    CHECK(IsAfter(*not_after, now));
    CHECK(IsAfter(*not_after, TimePoint::max()));
    auto not_before = reparsed->NotBefore();
    REQUIRE(not_before.ok());
    CHECK(FormatTime(*not_before) == "2020-01-01T00:00:00Z");
    CHECK(IsBefore(*not_before, now));
    ChainOptions o;
    o.at = now;
    std::vector<Certificate> none, anchors = {*reparsed};
    CHECK(VerifyChain(*reparsed, none, anchors, o).ok());
  }
}

TEST_CASE("Certificate times compare exactly with sub-second TimePoints") {
  CertTime t{std::chrono::seconds(1750377600)};
  TimePoint same(std::chrono::seconds(1750377600));
  CHECK_FALSE(IsBefore(t, same));
  CHECK_FALSE(IsAfter(t, same));
  CHECK(IsBefore(t, same + std::chrono::nanoseconds(1)));
  CHECK(IsAfter(t, same - std::chrono::nanoseconds(1)));
  CHECK_FALSE(IsAfter(t, same + std::chrono::nanoseconds(1)));
  CHECK(IsBefore(CertTime{std::chrono::seconds(-1)}, TimePoint{}));
}

TEST_CASE("A CRL whose nextUpdate is 9999-12-31 reads back without overflow") {
  auto key = GenerateEcKey(Curve::kP384);
  REQUIRE(key.ok());
  Certificate issuer = SelfSignedUntil(key->get(), "20200101000000Z", "99991231235959Z");
  ossl::X509Crl crl(X509_CRL_new());
  REQUIRE(crl.get() != nullptr);
  REQUIRE(X509_CRL_set_version(crl.get(), 1) == 1);
  REQUIRE(X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer.get())) == 1);
  ossl::Asn1Time last(ASN1_TIME_new()), next(ASN1_TIME_new());
  REQUIRE(ASN1_TIME_set_string_X509(last.get(), "20260101000000Z") == 1);
  REQUIRE(ASN1_TIME_set_string_X509(next.get(), "99991231235959Z") == 1);
  REQUIRE(X509_CRL_set1_lastUpdate(crl.get(), last.get()) == 1);
  REQUIRE(X509_CRL_set1_nextUpdate(crl.get(), next.get()) == 1);
  REQUIRE(X509_CRL_sign(crl.get(), key->get(), EVP_sha384()) > 0);
  auto parsed = Crl::Parse(Crl(std::move(crl)).Der());
  REQUIRE(parsed.ok());
  auto this_update = parsed->ThisUpdate();
  auto next_update = parsed->NextUpdate();
  REQUIRE(this_update.ok());
  REQUIRE(next_update.ok());
  REQUIRE(next_update->has_value());
  CHECK(FormatTime(*this_update) == "2026-01-01T00:00:00Z");
  CHECK(FormatTime(**next_update) == "9999-12-31T23:59:59Z");
  CHECK(IsAfter(**next_update, At("2026-06-01T00:00:00Z")));
}

}  // namespace
}  // namespace cvm
