// Fuzzes the cvm-rp policy parser and evaluates every rule it accepts.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rp/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto policy = cvm::rp::ParsePolicy(text, "fuzz.yaml");
  if (policy.ok()) {
    cvm::evidence::Claims claims;
    for (const auto* rule : policy->Rules()) {
      (void)cvm::rp::EvaluateRule(*rule, claims, std::chrono::seconds(1));
    }
    (void)policy->RuleFor("a/b/c");
  }
  return 0;
}
