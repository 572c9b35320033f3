// The seams between the relying party's protocol core and the evidence library.
//
// The core (sessions, policy, resources, audit, HTTP handlers) never calls the evidence library
// directly: it takes these three interfaces. Production implementations are thin adapters over
// evidence::VerifyBundle / FromTrusteeEvidence / EncryptJwe / SignJwt (evidence_adapters.h);
// tests use fakes. Every implementation must be thread-safe: the server calls them from all of
// its worker threads at once.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/digest.h"
#include "common/status.h"
#include "evidence/bundle.h"
#include "evidence/kbs.h"

namespace cvm::rp {

// What one POST /kbs/v0/attest asks to have appraised. The nonce and TEE kind come from the
// session (Trustee uses the session's `tee`, never anything in the attestation).
struct AppraisalInput {
  evidence::TeeKind tee = evidence::TeeKind::kSnp;
  DigestAlg hash = DigestAlg::kSha384;  // the binding hash the challenge selected
  std::string nonce;                    // the session's nonce (already compared by the core)
  nlohmann::json tee_pubkey;            // runtime-data.tee-pubkey as received
  nlohmann::json primary_evidence;      // tee-evidence.primary_evidence
  std::string additional_evidence;      // tee-evidence.additional_evidence ("" or JSON text)
  std::optional<evidence::InitData> init_data;
  TimePoint at;  // the server clock's time of the appraisal
};

// The outcome. `verified` false lists every reason; a Status error from Appraise means the
// appraiser itself failed (malformed evidence is a verdict with a reason, not an error).
struct Appraisal {
  bool verified = false;
  std::vector<std::string> reasons;
  std::vector<std::string> notes;
  evidence::Claims claims;     // meaningful when verified
  nlohmann::json claims_json;  // the claims as they go into the token's annotated evidence
};

class Appraiser {
 public:
  virtual ~Appraiser() = default;
  virtual Result<Appraisal> Appraise(const AppraisalInput& input) const = 0;
};

// A TEE key a ResourceSealer has checked and can seal to, opaque to the core. The core keeps it
// with the grant of the session whose evidence bound it (parsed once per attestation, never
// shared between sessions).
class SealingKey {
 public:
  virtual ~SealingKey() = default;
};

// Encrypts a resource to the TEE key of an attested session.
class ResourceSealer {
 public:
  virtual ~ResourceSealer() = default;
  // Parses the key and checks it is one we can encrypt to (exact Trustee members, supported
  // curve, valid point). kInvalidInput naming the problem. Called at /attest so a bad key gets
  // no token.
  virtual Result<std::shared_ptr<const SealingKey>> CheckKey(
      const nlohmann::json& tee_pubkey) const = 0;
  // The flattened-JSON JWE (serialised) carrying `plaintext` to `key`, which this sealer's
  // CheckKey returned.
  virtual Result<std::string> Seal(const SealingKey& key, ByteSpan plaintext) const = 0;
};

// Signs the attestation tokens this relying party issues, and verifies Bearer tokens presented
// back to it (with our own key only; a token's embedded "jwk" is never trusted).
class TokenSigner {
 public:
  virtual ~TokenSigner() = default;
  virtual Result<std::string> Sign(const nlohmann::json& claims) const = 0;
  // The claims of a token we signed that is valid at `now`. kRejected for a bad signature or an
  // expired token, kInvalidInput when malformed.
  virtual Result<nlohmann::json> Verify(std::string_view token, TimePoint now) const = 0;
};

}  // namespace cvm::rp
