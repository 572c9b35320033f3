// Fuzzes the NVIDIA opaque-data parser (type/size/value fields of the SPDM response).
#include <cstdint>

#include "gpu/report.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (auto o = cvm::gpu::ParseOpaqueData(cvm::ByteSpan(data, size)); o.ok()) {
    if (o->feature_flag) (void)cvm::gpu::FeatureFlagName(*o->feature_flag);
  }
  return 0;
}
