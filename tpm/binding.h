// Binding the vTPM to the TEE: the rule by which a TEE report's REPORT_DATA commits to the
// verifier's nonce and the TPM attestation key, so a verifier that trusts the TEE report knows
// the quoting TPM belongs to this TEE (and not to some other machine replaying its quotes).
//
// The rule (version 1; docs/tpm.md):
//   REPORT_DATA (64 bytes) = SHA-512( "cvm-agent/tee-tpm-binding/v1" || 0x00
//                                     || u32be(len(nonce))     || nonce
//                                     || u32be(len(ak_spki))   || ak_spki
//                                     || u32be(len(ephemeral)) || ephemeral )
// where ak_spki is the DER SubjectPublicKeyInfo of the AK public key and `ephemeral` is the TEE's
// ephemeral public key for the relying-party exchange (DER SubjectPublicKeyInfo; empty when
// there is none). Each field is length-prefixed, so no two inputs share an encoding; the label
// keeps this hash from being mistaken for any other use of REPORT_DATA. The same nonce is the
// TPM quote's qualifying data, so one nonce makes both pieces of evidence fresh.
// On Azure the binding is Azure's (hcl.h): REPORT_DATA commits to the runtime claims, which carry
// the AK; this rule is not used there.
#pragma once

#include <string_view>

#include "common/bytes.h"
#include "common/ossl.h"

namespace cvm::tpm {

inline constexpr std::string_view kBindingLabel = "cvm-agent/tee-tpm-binding/v1";
inline constexpr size_t kReportDataSize = 64;

// The REPORT_DATA the TEE report must carry. kInvalidInput when the AK cannot be encoded.
Result<Bytes> BindingReportData(ByteSpan nonce, const EVP_PKEY* ak, ByteSpan ephemeral = {});

// Checks that `report_data` (64 bytes) is BindingReportData(nonce, ak, ephemeral). kRejected
// when it is not; kInvalidInput when report_data is not 64 bytes.
Status VerifyBinding(ByteSpan report_data, ByteSpan nonce, const EVP_PKEY* ak,
                     ByteSpan ephemeral = {});

}  // namespace cvm::tpm
