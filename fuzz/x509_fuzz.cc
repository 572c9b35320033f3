// Fuzzes certificate and CRL parsing and the accessors a verifier calls on untrusted certificates.
#include <cstdint>

#include "common/clock.h"
#include "common/x509.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cvm::ByteSpan in(data, size);
  if (auto certs = cvm::ParseCertificates(in); certs.ok()) {
    for (const auto& c : *certs) {
      (void)c.Subject();
      (void)c.CommonName();
      if (auto t = c.NotBefore(); t.ok()) (void)cvm::FormatTime(*t);
      if (auto t = c.NotAfter(); t.ok()) (void)cvm::IsBefore(*t, cvm::TimePoint::max());
      (void)c.PublicKey();
      (void)c.Extension("1.3.6.1.4.1.3704.1.4");
      (void)c.Extension("1.2.840.113741.1.13.1");
    }
  }
  if (auto crl = cvm::Crl::Parse(in); crl.ok()) {
    if (auto t = crl->ThisUpdate(); t.ok()) (void)cvm::IsAfter(*t, cvm::TimePoint::min());
    if (auto t = crl->NextUpdate(); t.ok() && *t) (void)cvm::FormatTime(**t);
  }
  return 0;
}
