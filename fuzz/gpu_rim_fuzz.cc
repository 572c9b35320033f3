// Fuzzes the RIM (signed SWID XML) parser and the signature-shape checks before xmlsec1.
#include <cstdint>

#include "gpu/rim.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cvm::ByteSpan in(data, size);
  if (auto r = cvm::gpu::ParseRim(in); r.ok()) (void)r->Active();
  (void)cvm::gpu::VerifyRim(in, {});
  return 0;
}
