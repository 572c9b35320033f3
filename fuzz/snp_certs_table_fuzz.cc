// Fuzzes the extended-report certificate table parser (host-controlled bytes from auxblob or
// SNP_GET_EXT_REPORT).
#include <cstdint>
#include <cstdlib>

#include "snp/certs_table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto t = cvm::snp::ParseCertTable(cvm::ByteSpan(data, size));
  if (!t.ok()) return 0;
  // Whatever parsed must serialize to a table that parses to the same entries.
  auto again = cvm::snp::ParseCertTable(cvm::snp::SerializeCertTable(*t));
  if (!again.ok() || again->size() != t->size()) std::abort();
  for (size_t i = 0; i < t->size(); ++i) {
    if ((*again)[i].data != (*t)[i].data || (*again)[i].guid != (*t)[i].guid) std::abort();
  }
  return 0;
}
