// Fuzzes the QE report certification data (certification data type 6) parser.
#include <cstdint>

#include "tdx/quote.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)cvm::tdx::ParseQeCertificationData(cvm::ByteSpan(data, size));
  return 0;
}
