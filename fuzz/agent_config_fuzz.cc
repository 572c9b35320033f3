// Fuzzes the agent's YAML configuration parser.
#include <cstdint>
#include <string_view>

#include "agent/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)cvm::agent::ParseConfig(std::string_view(reinterpret_cast<const char*>(data), size),
                                "fuzz.yaml");
  return 0;
}
