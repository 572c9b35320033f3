// Fuzzes the reader of AMD's VCEK/VLEK X.509 extensions, on whole certificates and on raw
// extension values.
#include <cstdint>

#include "common/x509.h"
#include "snp/vcek.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cvm::ByteSpan in(data, size);
  (void)cvm::snp::DecodeDerInteger(in);
  (void)cvm::snp::DecodeDerIa5String(in);
  if (auto certs = cvm::ParseCertificates(in); certs.ok()) {
    for (const auto& c : *certs) (void)cvm::snp::ReadEndorsementInfo(c);
  }
  return 0;
}
