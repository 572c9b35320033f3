// Fuzzes the GPU evidence JSON parser (Trustee device_evidence_list, NVIDIA SDK list, the KBS
// additional_evidence string) and what a verifier does next with the parsed entries.
#include <cstdint>
#include <string_view>

#include "gpu/evidence_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto list = cvm::gpu::ParseEvidenceJson(text); list.ok()) {
    for (const auto& g : *list) (void)cvm::gpu::ParseReport(g.report);
    (void)cvm::gpu::EvidenceListJson(*list);
  }
  return 0;
}
