// The KBS (RCAR 0.4.0) messages the server reads and writes, parsed with nlohmann-json.
//
// TEMPORARY: these mirror evidence/kbs.h (ParseKbsRequest, ParseKbsAttestation,
// ToJson(KbsChallenge), ToJson(KbsError), ParseTeeKind, TeeKindName) with the same semantics,
// because the evidence library is implemented on another branch. At merge they are meant to be
// replaced by the kbs.h functions. Wire facts: ../shared/reference/kbs-protocol.md section a.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "evidence/kbs.h"

namespace cvm::rp {

// "snp", "tdx", "az-snp-vtpm", "az-tdx-vtpm".
std::string_view TeeName(evidence::TeeKind kind);
// kUnsupported for a kind kbs-types knows that we do not ("sgx", "cca", ...), kInvalidInput for
// a name that is not a TEE kind at all.
Result<evidence::TeeKind> ParseTee(std::string_view name);

struct AuthRequest {
  std::string version;
  std::string tee;
  nlohmann::json extra_params;
};
// All three members required (kbs_types::Request); kInvalidInput naming the member.
Result<AuthRequest> ParseAuthRequest(std::string_view body);

struct AttestRequest {
  std::optional<evidence::InitData> init_data;  // "init-data": absent or null -> nullopt
  std::string nonce;                            // runtime-data.nonce
  nlohmann::json tee_pubkey;                    // runtime-data.tee-pubkey, as received
  nlohmann::json primary_evidence;              // tee-evidence.primary_evidence
  std::string additional_evidence;              // tee-evidence.additional_evidence
};
// kInvalidInput naming the missing or mistyped member.
Result<AttestRequest> ParseAttestRequest(std::string_view body);

// {"nonce": nonce, "extra-params": ""} (the builtin attestation service's answer for every
// TEE we accept).
std::string ChallengeBody(std::string_view nonce);

// {"type": "https://github.com/confidential-containers/kbs/errors/<variant>", "detail": detail}
std::string ErrorBody(std::string_view variant, std::string_view detail);

}  // namespace cvm::rp
