// Fuzzes the Trustee tee-evidence readers for every TEE kind (the first byte picks the kind, the
// rest is the JSON): accepted evidence must convert back, and the SNP report must come back to
// the same bytes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "evidence/trustee.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  using cvm::evidence::TeeKind;
  constexpr TeeKind kKinds[] = {TeeKind::kSnp, TeeKind::kTdx, TeeKind::kAzSnpVtpm,
                                TeeKind::kAzTdxVtpm};
  TeeKind kind = kKinds[data[0] % 4];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  (void)cvm::evidence::GuessTrusteeKind(text);
  auto b = cvm::evidence::FromTrusteeEvidenceFile(kind, text);
  if (!b.ok()) return 0;
  auto t = cvm::evidence::ToTrusteeEvidence(*b);
  if ((kind == TeeKind::kSnp || kind == TeeKind::kTdx) && !b->tpm) {
    if (!t.ok()) std::abort();
    auto back = cvm::evidence::FromTrusteeEvidence(kind, t->primary, t->additional,
                                                   cvm::DigestAlg::kSha384, "n", nullptr);
    if (!back.ok() || back->report != b->report) std::abort();
  }
  return 0;
}
