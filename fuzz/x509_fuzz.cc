// Fuzzes certificate and CRL parsing and the accessors a verifier calls on untrusted certificates.
#include <cstdint>

#include "common/x509.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cvm::ByteSpan in(data, size);
  if (auto certs = cvm::ParseCertificates(in); certs.ok()) {
    for (const auto& c : *certs) {
      (void)c.Subject();
      (void)c.CommonName();
      (void)c.NotAfter();
      (void)c.PublicKey();
      (void)c.Extension("1.3.6.1.4.1.3704.1.4");
      (void)c.Extension("1.2.840.113741.1.13.1");
    }
  }
  (void)cvm::Crl::Parse(in);
  return 0;
}
