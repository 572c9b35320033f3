// Fuzzes every KBS protocol parser (kbs.h): no crash, and whatever parses re-serialises into
// something that parses again to the same value.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "evidence/kbs.h"

using namespace cvm::evidence;  // NOLINT(google-build-using-namespace)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto r = ParseKbsRequest(text); r.ok()) {
    auto again = ParseKbsRequest(ToJson(*r).dump());
    if (!again.ok() || again->tee != r->tee || again->version != r->version) std::abort();
  }
  if (auto c = ParseKbsChallenge(text); c.ok()) {
    auto again = ParseKbsChallenge(ToJson(*c).dump());
    if (!again.ok() || again->nonce != c->nonce || again->selected_hash != c->selected_hash) {
      std::abort();
    }
  }
  auto a = ParseKbsAttestation(text);
  // cvm-rp's form (byte arrays as binary values) accepts and refuses exactly the same messages.
  if (ParseKbsAttestation(text, /*bytes_as_binary=*/true).ok() != a.ok()) std::abort();
  if (a.ok()) {
    if (!ParseKbsAttestation(ToJson(*a).dump()).ok()) std::abort();
    (void)CanonicalJson(a->primary_evidence);
    (void)RuntimeDataDigest(cvm::DigestAlg::kSha384, a->nonce, a->tee_pubkey,
                            a->additional_evidence);
  }
  if (auto e = ParseKbsError(text); e.ok()) (void)e->Variant();
  (void)ParseKbsTokenResponse(text);
  (void)SessionIdFromSetCookie(text);
  (void)SessionIdFromCookieHeader(text);
  (void)ValidateResourcePath(text);
  (void)VmResourceTypeTag(text);
  (void)ParseTeeKind(text);
  (void)ParseKbsHashAlgorithm(text);
  return 0;
}
