// Trustee interop: the `tee-evidence` JSON that Trustee's attesters produce and its verifiers
// consume (kbs-protocol.md section c), converted to and from our Bundle, byte-exact both ways.
//   snp          : {"attestation_report": <sev crate serde JSON>, "cert_chain": null | [...]}
//   tdx          : {"cc_eventlog": <base64 std> | null, "quote": <base64 std>}
//   az-snp-vtpm  : {"version":2,"tpm_quote":{signature,message,pcrs},"hcl_report","vcek"}
//   az-tdx-vtpm  : {"version":2,"tpm_quote":{...},"hcl_report","td_quote"}
// (v0/v1 Azure shapes are read too). The vTPM evidence next to bare SNP/TDX travels in
// additional_evidence as {"tpm": {"ak_public","tpm_quote":{"message","signature","pcrs"},
// "event_log"}} after Trustee's tpm verifier shape.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"
#include "evidence/bundle.h"
#include "evidence/kbs.h"

namespace cvm::evidence {

// The primary_evidence JSON for a bundle's TEE kind, and the additional_evidence string
// ("" when there is none; otherwise the JSON text of {"tpm": ...}).
struct TrusteeEvidence {
  nlohmann::json primary;
  std::string additional;
};
Result<TrusteeEvidence> ToTrusteeEvidence(const Bundle& bundle);

// Builds a Bundle from what a KBS attestation request carries. The runtime data is taken from
// the attestation (nonce, tee-pubkey, additional-evidence) with `hash` (the challenge's selected
// algorithm, sha384 by default). kInvalidInput naming the member on malformed evidence.
// `cache` (optional, not owned): certificates the evidence carries are parsed through it
// (common/chain_cache.h), as a relying party that sees the same VCEK again does.
Result<Bundle> FromTrusteeEvidence(TeeKind tee, const nlohmann::json& primary,
                                   std::string_view additional, DigestAlg hash,
                                   std::string_view nonce, const nlohmann::json& tee_pubkey,
                                   ChainCache* cache = nullptr);
// The same for evidence read from a file (`cvmctl verify F --tee KIND`): no runtime data is
// known, so only the hardware evidence is appraised (the verdict says the binding was not
// checked).
// `json` is either the primary evidence alone or the 0.4.0 `tee-evidence` wrapper.
Result<Bundle> FromTrusteeEvidenceFile(TeeKind tee, std::string_view json);
// The TEE kind a tee-evidence file is from, when its content says (kInvalidInput otherwise).
Result<TeeKind> GuessTrusteeKind(std::string_view json);

// The pieces, for callers that need one of them (Collect builds the additional evidence before
// it asks for the report; tests check the SNP codec on its own).
// The sev crate's serde JSON of a raw 1184-byte SNP report; kInvalidInput when the report does
// not parse, its generation is unknown, or reserved bytes would be lost (the JSON must convert
// back to the same bytes).
Result<nlohmann::ordered_json> SnpReportToSevJson(ByteSpan report);
// The raw report from the sev JSON (strict: unknown or missing members are kInvalidInput).
Result<Bytes> SnpReportFromSevJson(const nlohmann::json& attestation_report);
// Trustee's "tpm" evidence {"ak_public", "tpm_quote": {"signature", "message", "pcrs"}} plus our
// optional "ak_public_area" and "event_log" (base64; Trustee ignores members it does not know).
// Requires the sha256 bank with all 24 PCRs (Trustee's shape has no room for others).
Result<nlohmann::json> ToTrusteeTpmEvidence(const TpmEvidence& tpm);
Result<TpmEvidence> FromTrusteeTpmEvidence(const nlohmann::json& tpm);

}  // namespace cvm::evidence
