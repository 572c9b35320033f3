// Fuzzes the SPDM GET_MEASUREMENTS report parser (raw bytes and NVIDIA's hex text) and the FWID
// reader of certificates.
#include <cstdint>

#include "common/x509.h"
#include "gpu/report.h"
#include "gpu/verify.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cvm::ByteSpan in(data, size);
  if (auto r = cvm::gpu::ParseReport(in); r.ok()) {
    (void)r->Block(1);
    (void)cvm::gpu::SignedPart(in, *r);
  }
  if (auto raw = cvm::gpu::DecodeReportBytes(in); raw.ok()) (void)cvm::gpu::ParseReport(*raw);
  if (auto certs = cvm::ParseCertificates(in); certs.ok()) {
    for (const auto& c : *certs) (void)cvm::gpu::LeafFwid(c);
  }
  return 0;
}
