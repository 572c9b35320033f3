// Fuzzes the DCAP quote parser (v4/v5), the TDREPORT parser, and what a verifier reads next
// from a parsed quote: the PCK chain and its SGX extensions.
#include <cstdint>

#include "common/x509.h"
#include "tdx/pck.h"
#include "tdx/quote.h"
#include "tdx/report.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cvm::ByteSpan in(data, size);
  if (auto q = cvm::tdx::ParseQuote(in); q.ok()) {
    (void)cvm::tdx::EncodeBody(q->body);
    if (auto certs = cvm::ParseCertificates(q->certification.pck_cert_data);
        certs.ok() && !certs->empty()) {
      (void)cvm::tdx::PckExtensionsOf((*certs)[0]);
    }
  }
  if (auto r = cvm::tdx::ParseTdReport(in); r.ok()) (void)cvm::tdx::CheckTdReportHashes(*r);
  return 0;
}
