// Fuzzes the SNP report parser, its serializer (round trip must be exact), the JSON view and
// verification of untrusted bytes against fixed certificates.
#include <cstdint>
#include <cstdlib>

#include "snp/report.h"
#include "snp/report_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cvm::ByteSpan in(data, size);
  auto r = cvm::snp::ParseReport(in);
  if (!r.ok()) return 0;
  cvm::Bytes again = cvm::snp::SerializeReport(*r);
  if (again != cvm::Bytes(in.begin(), in.end())) std::abort();  // parse/serialize must agree
  auto product = cvm::snp::ProductFromCpuid(*r);
  (void)cvm::snp::ReportToJson(*r, product).dump();
  (void)cvm::snp::HwId(*r, product);
  return 0;
}
