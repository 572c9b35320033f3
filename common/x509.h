// X.509 certificates and CRLs: parsing, inspection, chain verification against explicit trust
// anchors at an injectable time, and issuing (for simulated TEEs and tests).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/digest.h"
#include "common/ossl.h"

namespace cvm {

using TimePoint = std::chrono::system_clock::time_point;

// Certificate and CRL times, in whole seconds since the Unix epoch. RFC 5280 times reach
// 9999-12-31T23:59:59Z (the "no expiry" notAfter), far past 2262 where the nanosecond
// system_clock::time_point overflows, so they are never converted to a TimePoint: compare them
// with IsBefore/IsAfter and print them with FormatTime(CertTime) (common/clock.h).
using CertTime = std::chrono::sys_seconds;

// Exact comparisons of a certificate time with a TimePoint, for every value of either (no
// conversion to nanoseconds). IsBefore: t < at. IsAfter: t > at.
bool IsBefore(CertTime t, TimePoint at);
bool IsAfter(CertTime t, TimePoint at);

// A reference-counted certificate (copies share the X509 object; it is never mutated).
class Certificate {
 public:
  static Result<Certificate> FromDer(ByteSpan der);
  // The first certificate in a PEM text.
  static Result<Certificate> FromPem(std::string_view pem);
  // Takes ownership. REQUIRES: x != nullptr.
  explicit Certificate(ossl::X509Ptr x);

  Certificate(const Certificate& other);
  Certificate& operator=(const Certificate& other);
  Certificate(Certificate&&) noexcept = default;
  Certificate& operator=(Certificate&&) noexcept = default;
  ~Certificate() = default;

  X509* get() const { return x_.get(); }
  // One-line RFC 2253 names, e.g. "CN=SEV-VCEK,OU=Engineering,...".
  std::string Subject() const;
  std::string Issuer() const;
  // The subject's commonName; empty when there is none.
  std::string CommonName() const;
  // The validity period. An error (kInvalidInput) when the time does not parse, so that a caller
  // can never mistake a malformed time for a valid one.
  Result<CertTime> NotBefore() const;
  Result<CertTime> NotAfter() const;
  std::string SerialHex() const;
  Result<ossl::PKey> PublicKey() const;
  Bytes Der() const;
  std::string Pem() const;
  Bytes Fingerprint(DigestAlg alg) const;
  // The DER contents of the extension's extnValue OCTET STRING for a dotted OID, or nullopt when
  // the certificate has no such extension.
  std::optional<Bytes> Extension(std::string_view oid) const;

 private:
  ossl::X509Ptr x_;
};

// Parses one DER certificate, or every certificate in a PEM text (at least one). Trailing text
// after the last PEM block is ignored; a NUL terminator is allowed.
Result<std::vector<Certificate>> ParseCertificates(ByteSpan data);

class Crl {
 public:
  // DER or PEM.
  static Result<Crl> Parse(ByteSpan data);
  explicit Crl(ossl::X509Crl crl) : crl_(crl.release(), X509_CRL_free) {}
  X509_CRL* get() const { return crl_.get(); }
  std::string Issuer() const;
  // thisUpdate, and nextUpdate (nullopt when absent); an error when a time does not parse.
  Result<CertTime> ThisUpdate() const;
  Result<std::optional<CertTime>> NextUpdate() const;
  // Whether the certificate's serial number is listed (does not check the issuer).
  bool Lists(const Certificate& cert) const;
  Bytes Der() const;

 private:
  std::shared_ptr<X509_CRL> crl_;
};

struct ChainOptions {
  // REQUIRED: the time at which validity periods (and CRL freshness) are evaluated, taken from a
  // Clock (common/clock.h). No default: VerifyChain refuses the epoch rather than guessing.
  TimePoint at{};
  // CRLs to check every certificate in the chain against. Empty: no revocation check.
  std::vector<Crl> crls;
  // Accept a chain that ends at an anchor that is not self-signed (e.g. an intermediate that the
  // caller pins). Off: the anchor must be the root.
  bool allow_partial_chain = false;
};

// Verifies that `leaf` chains through `intermediates` (untrusted, any order) to one of `anchors`
// (trusted), checking every signature, the validity periods at `options.at`, CA constraints, and
// revocation when CRLs are given. Returns kRejected naming the failing certificate and reason,
// e.g. "certificate chain: certificate has expired (depth 0, CN=SEV-VCEK)".
Status VerifyChain(const Certificate& leaf, std::span<const Certificate> intermediates,
                   std::span<const Certificate> anchors, const ChainOptions& options);

// Checks only that `cert` is signed by `issuer`'s key (no validity or constraints).
Status VerifyIssuedBy(const Certificate& cert, const Certificate& issuer);

// Issuing, for simulated TEEs and test fixtures.
struct CertExtension {
  std::string oid;  // dotted
  Bytes der_value;  // the DER placed in extnValue
  bool critical = false;
};

struct CertSpec {
  std::vector<std::pair<std::string, std::string>> subject;  // e.g. {{"CN","ARK-Milan"},{"O",...}}
  uint64_t serial = 1;
  TimePoint not_before;
  TimePoint not_after;
  bool is_ca = false;
  std::optional<int> path_len;
  // Key usage in OpenSSL config syntax, e.g. "critical,keyCertSign,cRLSign". Empty: none.
  std::string key_usage;
  std::vector<CertExtension> extensions;
  DigestAlg digest = DigestAlg::kSha384;
  // Sign with RSASSA-PSS (salt = digest length), as AMD does; otherwise the key's default scheme.
  bool rsa_pss = false;
};

// Issues a certificate for `subject_key` signed by `issuer_key`. `issuer` nullptr: self-signed.
Result<Certificate> IssueCertificate(const CertSpec& spec, const EVP_PKEY* subject_key,
                                     const Certificate* issuer, const EVP_PKEY* issuer_key);

// Issues a CRL listing `revoked_serials`, signed like the certificates above.
Result<Crl> IssueCrl(const Certificate& issuer, const EVP_PKEY* issuer_key,
                     std::span<const uint64_t> revoked_serials, TimePoint this_update,
                     TimePoint next_update, DigestAlg digest = DigestAlg::kSha256);

// Converts an ASN.1 UTCTime or GeneralizedTime (any year 0000-9999); kInvalidInput when `t` is
// null or malformed.
Result<CertTime> FromAsn1Time(const ASN1_TIME* t);

}  // namespace cvm
