#include "tpm/public_area.h"

#include <tss2/tss2_mu.h>

#include <algorithm>

#include "common/digest.h"
#include "tpm/pcr.h"
#include "tpm/tss_convert.h"

namespace cvm::tpm {

Result<PublicArea> ParsePublicArea(ByteSpan tpm2b_public) {
  TPM2B_PUBLIC pub{};
  size_t offset = 0;
  TSS2_RC rc =
      Tss2_MU_TPM2B_PUBLIC_Unmarshal(tpm2b_public.data(), tpm2b_public.size(), &offset, &pub);
  if (rc != TSS2_RC_SUCCESS) return esys::RcStatus(rc, "TPM2B_PUBLIC").WithContext("AK public");
  if (offset != tpm2b_public.size()) {
    return InvalidInput("AK public: " + std::to_string(tpm2b_public.size() - offset) +
                        " bytes after the TPM2B_PUBLIC");
  }
  PublicArea out;
  CVM_ASSIGN_OR_RETURN(out.key, KeyFromTpmPublic(pub.publicArea));
  out.object_attributes = pub.publicArea.objectAttributes;
  CVM_ASSIGN_OR_RETURN(DigestAlg name_alg, DigestAlgFromTpm(pub.publicArea.nameAlg));
  // The name hashes the marshalled TPMT_PUBLIC: the TPM2B_PUBLIC without its size prefix.
  Bytes h = Digest(name_alg, tpm2b_public.subspan(2));
  out.name = {static_cast<uint8_t>(pub.publicArea.nameAlg >> 8),
              static_cast<uint8_t>(pub.publicArea.nameAlg & 0xFF)};
  out.name.insert(out.name.end(), h.begin(), h.end());
  out.name_alg = name_alg;
  out.name_alg_id = pub.publicArea.nameAlg;
  return out;
}

Bytes PrimaryQualifiedName(const PublicArea& area, uint32_t hierarchy) {
  Bytes input = {static_cast<uint8_t>(hierarchy >> 24), static_cast<uint8_t>(hierarchy >> 16),
                 static_cast<uint8_t>(hierarchy >> 8), static_cast<uint8_t>(hierarchy)};
  input.insert(input.end(), area.name.begin(), area.name.end());
  Bytes h = Digest(area.name_alg, input);
  Bytes out(2 + h.size());  // nameAlg || digest
  out[0] = static_cast<uint8_t>(area.name_alg_id >> 8);
  out[1] = static_cast<uint8_t>(area.name_alg_id & 0xFF);
  std::copy(h.begin(), h.end(), out.begin() + 2);
  return out;
}

}  // namespace cvm::tpm
