// Fuzzes the cvm LUKS2 token parser (luks/token.h): token JSON is written by whoever controls
// the disk. A token that parses must survive a round trip through TokenJson unchanged.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "luks/token.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto token = cvm::luks::ParseToken(text);
  if (!token.ok()) return 0;
  auto again = cvm::luks::ParseToken(cvm::luks::TokenJson(*token));
  if (!again.ok() || again->keyslots != token->keyslots || again->resource != token->resource ||
      again->uuid != token->uuid || again->timeout_seconds != token->timeout_seconds) {
    std::abort();
  }
  return 0;
}
