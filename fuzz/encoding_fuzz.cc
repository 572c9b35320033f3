// Fuzzes the hex and base64 decoders: no crash, and whatever decodes re-encodes canonically.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/encoding.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto b = cvm::HexDecode(text); b.ok() && cvm::HexDecode(cvm::HexEncode(*b)).value() != *b) {
    std::abort();
  }
  if (auto b = cvm::Base64Decode(text); b.ok() && cvm::Base64Encode(*b) != text) std::abort();
  if (auto b = cvm::Base64UrlDecode(text); b.ok()) {
    if (*cvm::Base64UrlDecode(cvm::Base64UrlEncode(*b)) != *b) std::abort();
  }
  return 0;
}
