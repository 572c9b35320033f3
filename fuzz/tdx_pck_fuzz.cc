// Fuzzes the PCK certificate SGX extension reader (OID 1.2.840.113741.1.13.1).
#include <cstdint>

#include "tdx/pck.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (auto ext = cvm::tdx::ParsePckExtensions(cvm::ByteSpan(data, size)); ext.ok()) {
    (void)cvm::tdx::EncodePckExtensions(*ext);
  }
  return 0;
}
