// NVIDIA GPU evidence as JSON, in the forms verifiers receive it:
//   - Trustee / guest-components KBS carriage: {"device_evidence_list": [ENTRY...]}, possibly
//     wrapped as {"nvidia": {...}} or as a JSON string holding that text (the
//     `additional_evidence` string of the KBS protocol);
//   - NVIDIA attestation SDK's serialized evidence: [ENTRY...].
// ENTRY = {"arch": "HOPPER"|"BLACKWELL", "uuid"?: str, "nonce"?: hex, "evidence": base64 or hex
// report, "certificate": base64 of the PEM chain (or the PEM text itself)}. Other keys are
// ignored. An entry's own "nonce" is never trusted: the verifier's expected nonce is.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gpu/verify.h"

namespace cvm::gpu {

inline constexpr size_t kMaxGpusPerList = 64;

// Parses any of the forms above. kInvalidInput naming the entry and field for malformed JSON, a
// missing field, undecodable base64/hex or certificates; kUnsupported for an NVSwitch ("LS10")
// entry.
Result<std::vector<GpuEvidence>> ParseEvidenceJson(std::string_view json);

// The Trustee form {"device_evidence_list": [{"arch", "uuid", "evidence", "certificate"}]} with
// base64 fields, as guest-components' NVIDIA attester emits it.
std::string EvidenceListJson(std::span<const GpuEvidence> gpus);

// The entry point for evidence bundles and relying parties: parses `json` (any form above) and
// verifies every GPU against `nonce` (32 bytes, or a 48/64-byte runtime-data hash truncated as
// GpuNonce does), with options.nonce overridden by it. Errors: ParseEvidenceJson's, kInvalidInput
// for a bad nonce; otherwise the verdict (verified or not, with every reason).
Result<EvidenceVerdict> VerifyNvidiaEvidence(std::string_view json, ByteSpan nonce,
                                             VerifyOptions options);

}  // namespace cvm::gpu
