// The Trustee KBS attestation protocol (RCAR, version 0.4.0): its messages, the REPORT_DATA
// binding rule, and its error body. Shared by the client (kbs_client.h, used by the agent and
// `cvmctl kbs`) and the server (`cvm-rp`). No HTTP here.
//
// Wire facts with sources: ../shared/reference/kbs-protocol.md. In brief:
//   POST /kbs/v0/auth    Request
//   {"version":"0.4.0","tee":KIND,"extra-params":{"supported-hash-algorithms":[...]}} 200 Challenge
//   {"nonce":"<base64 std, 32 bytes>","extra-params":"" | {"selected-hash-algorithm":H}}
//                        + Set-Cookie: kbs-session-id=<32 hex>
//   POST /kbs/v0/attest  Attestation {"init-data":null|{"format":"toml","body":..},
//                                     "runtime-data":{"nonce":..,"tee-pubkey":JWK},
//                                     "tee-evidence":{"primary_evidence":..,"additional_evidence":"<JSON
//                                     string or empty>"}}
//   200                  {"token":"<EAR JWT>"}
//   GET  /kbs/v0/resource/<repo>/<type>/<tag>  -> flattened JWE (jose.h)
//   errors: 401 (almost everything) or 404 (unknown plugin/path) with
//           {"type":"https://github.com/confidential-containers/kbs/errors/<Variant>","detail":".."}
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/digest.h"
#include "common/status.h"

namespace cvm::evidence {

inline constexpr std::string_view kKbsProtocolVersion = "0.4.0";
inline constexpr std::string_view kKbsSessionCookie = "kbs-session-id";
// cvm-rp's refusal reason (with its `diagnostic_header` on); Trustee sends none. Informational
// only.
inline constexpr std::string_view kKbsReasonHeader = "X-CVM-RP-Reason";
inline constexpr std::string_view kKbsErrorTypePrefix =
    "https://github.com/confidential-containers/kbs/errors/";

// The TEE kinds we produce and accept, named as kbs-types' `Tee` serialises them.
enum class TeeKind { kSnp, kTdx, kAzSnpVtpm, kAzTdxVtpm };
std::string_view TeeKindName(TeeKind kind);  // "snp", "tdx", "az-snp-vtpm", "az-tdx-vtpm"
// kUnsupported for a kind kbs-types knows that we do not ("sgx", "cca", ...), kInvalidInput for
// a name that is not a TEE kind at all.
Result<TeeKind> ParseTeeKind(std::string_view name);

// Hash algorithms of the binding ("sha256", "sha384", "sha512"; "sm3" is refused).
Result<DigestAlg> ParseKbsHashAlgorithm(std::string_view name);
std::string_view KbsHashAlgorithmName(DigestAlg alg);

struct KbsRequest {
  std::string version = std::string(kKbsProtocolVersion);
  std::string tee;  // kept as the string received; the server maps it with ParseTeeKind
  std::vector<std::string> supported_hash_algorithms;  // empty: member absent
};
nlohmann::json ToJson(const KbsRequest& request);
// All three members required (as kbs-types): kInvalidInput naming the missing/bad member.
Result<KbsRequest> ParseKbsRequest(std::string_view body);

struct KbsChallenge {
  std::string nonce;  // opaque string (base64 of 32 bytes from Trustee); hashed verbatim
  std::optional<DigestAlg> selected_hash;  // absent: "extra-params" is "" (client uses sha384)
};
nlohmann::json ToJson(const KbsChallenge& challenge);
Result<KbsChallenge> ParseKbsChallenge(std::string_view body);

struct InitData {
  std::string format;  // "toml"
  std::string body;
};

struct KbsAttestation {
  std::optional<InitData> init_data;
  std::string nonce;          // runtime-data.nonce
  nlohmann::json tee_pubkey;  // runtime-data.tee-pubkey, as received
  nlohmann::json primary_evidence;
  std::string additional_evidence;  // a JSON text or ""
};
nlohmann::json ToJson(const KbsAttestation& attestation);
// kInvalidInput naming the member. Sizes are the caller's to limit (the HTTP layer).
// `bytes_as_binary` (a relying party that only appraises the evidence): arrays of integers
// 0..255 come back as binary JSON values, which FromTrusteeEvidence reads like the arrays; the
// sev crate's JSON carries the VCEK as ~1,500 numbers. Such an attestation does not serialise
// back to the text received.
Result<KbsAttestation> ParseKbsAttestation(std::string_view body, bool bytes_as_binary = false);

struct KbsError {
  std::string type;  // the full URI
  std::string detail;
  // The variant after the prefix ("AttestationError", "PolicyDeny", ...).
  std::string Variant() const;
};
nlohmann::json ToJson(const KbsError& error);
Result<KbsError> ParseKbsError(std::string_view body);
// The error for a Trustee variant: type = kKbsErrorTypePrefix + variant.
KbsError MakeKbsError(std::string_view variant, std::string_view detail);

// The token response of POST /kbs/v0/attest: {"token":"<JWT>"}.
nlohmann::json TokenResponseJson(std::string_view token);
Result<std::string> ParseKbsTokenResponse(std::string_view body);

// The session cookie. The server sends "Set-Cookie: kbs-session-id=<id>; Expires=..."; the
// client sends "Cookie: kbs-session-id=<id>".
// The session id from a Set-Cookie value whose cookie name is kbs-session-id; nullopt for any
// other cookie. kInvalidInput when the id is empty or holds characters outside [0-9A-Za-z-_].
Result<std::optional<std::string>> SessionIdFromSetCookie(std::string_view set_cookie);
// The kbs-session-id value in a Cookie header ("a=b; kbs-session-id=..."); nullopt when absent.
std::optional<std::string> SessionIdFromCookieHeader(std::string_view cookie);

// A resource path "<repo>/<type>/<tag>": exactly three segments, each matching Trustee's
// ^[a-zA-Z0-9_\-]+[a-zA-Z0-9_\-\.]*$ (so no "..", no empty segment). kInvalidInput naming the
// segment otherwise.
Status ValidateResourcePath(std::string_view path);

// Per-VM resources (cvm-rp's "vm-resource" plugin; docs/relying-party.md "Per-VM resources").
// Trustee documents no guest-side write, so this is our own plugin on the same attested session
// (cookie or Bearer token, as GET resource). The relying party keeps each value under an id it
// derives from the attested evidence of the caller (never from anything the caller names), so one
// path baked into an image gives every VM its own value, and no VM can name another's:
//   GET  /kbs/v0/vm-resource/<type>/<tag>  200 JWE of this VM's value;
//                                          404 VmResourceNotFound when it has none yet
//   POST /kbs/v0/vm-resource/<type>/<tag>  (empty body) creates the value from the relying
//                                          party's random generator unless this VM already has
//                                          one: 201 JWE of the new value, 200 JWE of the stored
//                                          one (first write wins; nothing is ever overwritten)
// An agent configuration names such a resource "{vm_id}/<type>/<tag>".
inline constexpr std::string_view kVmResourcePlugin = "vm-resource";
inline constexpr std::string_view kVmIdPlaceholder = "{vm_id}";
inline constexpr std::string_view kVmResourceNotFound = "VmResourceNotFound";
// "<type>/<tag>": two segments with the rule of ValidateResourcePath. kInvalidInput otherwise.
Status ValidateVmResourceTypeTag(std::string_view type_tag);
// The "<type>/<tag>" of a path "{vm_id}/<type>/<tag>"; nullopt for a path that does not start
// with "{vm_id}/"; kInvalidInput when the rest is not a valid <type>/<tag>.
Result<std::optional<std::string>> VmResourceTypeTag(std::string_view path);

// RFC 8785 (JCS) serialisation of a JSON value: keys sorted, no whitespace, ES6 number form.
// Only the values this protocol hashes are supported (objects, arrays, strings, integers,
// booleans, null); a floating-point number is kInvalidInput.
Result<std::string> CanonicalJson(const nlohmann::json& value);

// The REPORT_DATA binding (kbs-protocol.md section b):
//   digest = H(JCS({"additional-evidence": additional_evidence, "nonce": nonce,
//                   "tee-pubkey": tee_pubkey}))
// With `include_additional_evidence` false the member is left out entirely (the rule for the
// evidence of additional devices, e.g. a TPM quote's qualifying data or a GPU nonce).
Result<Bytes> RuntimeDataDigest(DigestAlg alg, std::string_view nonce,
                                const nlohmann::json& tee_pubkey,
                                std::string_view additional_evidence,
                                bool include_additional_evidence = true);
// REPORT_DATA for SNP/TDX: the digest zero-padded to 64 bytes.
Bytes PadReportData(ByteSpan digest);

}  // namespace cvm::evidence
