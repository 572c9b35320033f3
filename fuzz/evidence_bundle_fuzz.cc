// Fuzzes ParseBundle (and LooksLikeBundle): an accepted bundle must serialise back to a document
// that parses to the same JSON.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "evidence/bundle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)cvm::evidence::LooksLikeBundle(text);
  auto b = cvm::evidence::ParseBundle(text);
  if (!b.ok()) return 0;
  std::string again = cvm::evidence::ToJson(*b).dump();
  auto b2 = cvm::evidence::ParseBundle(again);
  if (!b2.ok()) std::abort();
  if (cvm::evidence::ToJson(*b2).dump() != again) std::abort();
  return 0;
}
