// A TPM object's public area (TPM2B_PUBLIC, TPM 2.0 Part 2 section 12.2.5) as a verifier sees
// it: the key it holds, the attributes that say what the key may do, and the object's name
// (nameAlg || H_nameAlg(TPMT_PUBLIC), Part 1 section 16), which a quote's qualifiedSigner holds.
#pragma once

#include <cstdint>

#include "common/bytes.h"
#include "common/digest.h"
#include "common/ossl.h"
#include "common/status.h"

namespace cvm::tpm {

inline constexpr uint32_t kObjectFixedTpm = 1u << 1;
inline constexpr uint32_t kObjectRestricted = 1u << 16;
inline constexpr uint32_t kObjectSign = 1u << 18;

struct PublicArea {
  ossl::PKey key;
  uint32_t object_attributes = 0;
  Bytes name;  // TPM2B_NAME contents
  DigestAlg name_alg = DigestAlg::kSha256;
  uint16_t name_alg_id = 0x000B;  // TPM_ALG_SHA256
  // A restricted signing key that never leaves the TPM: one whose quotes only the TPM can make.
  bool IsAttestationKey() const {
    return (object_attributes & (kObjectFixedTpm | kObjectRestricted | kObjectSign)) ==
           (kObjectFixedTpm | kObjectRestricted | kObjectSign);
  }
};

// Parses a marshalled TPM2B_PUBLIC (the whole input must be consumed). kInvalidInput for
// malformed bytes, kUnsupported for a key type, curve or name algorithm we do not handle.
Result<PublicArea> ParsePublicArea(ByteSpan tpm2b_public);

// The hierarchies a primary object can belong to (TPM_RH_*).
inline constexpr uint32_t kRhOwner = 0x40000001;
inline constexpr uint32_t kRhNull = 0x40000007;
inline constexpr uint32_t kRhEndorsement = 0x4000000B;
inline constexpr uint32_t kRhPlatform = 0x4000000C;

// The qualified name of `area` as a primary object of `hierarchy` (Part 1 section 16: a
// hierarchy's qualified name is its handle, and QN = nameAlg || H_nameAlg(QN_parent || name)).
// A quote's qualifiedSigner is its AK's qualified name, not its name.
Bytes PrimaryQualifiedName(const PublicArea& area, uint32_t hierarchy);

}  // namespace cvm::tpm
