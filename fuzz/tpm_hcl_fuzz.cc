// Fuzzes the Azure HCL report parser (header, IGVM request data, runtime-claims JSON and JWKs),
// the claims binding check, and the Azure TPM quote JSON parser.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tpm/hcl.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cvm::ByteSpan in(data, size);
  if (auto r = cvm::tpm::ParseHclReport(in); r.ok()) {
    if (!r->ak_pub) std::abort();
    if (r->hardware_report.size() != 1184 && r->hardware_report.size() != 1024) std::abort();
    (void)cvm::tpm::VerifyHclBinding(*r);
  }
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto q = cvm::tpm::ParseAzureTpmQuote(text); q.ok()) {
    if (q->pcrs.size() > 1) std::abort();
  }
  return 0;
}
