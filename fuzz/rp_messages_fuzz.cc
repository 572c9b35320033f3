// Fuzzes the KBS request parsers of cvm-rp (auth and attest bodies) and the cookie reader.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rp/kbs_service.h"
#include "rp/messages.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)cvm::rp::ParseAuthRequest(text);
  (void)cvm::rp::ParseAttestRequest(text);
  (void)cvm::rp::SessionIdFromCookie(text);
  (void)cvm::rp::ValidResourcePath(text);
  return 0;
}
