// RCAR sessions: one per POST /kbs/v0/auth, named by the kbs-session-id cookie (32 lower-case
// hex, a uuid v4 "simple" as Trustee makes it), holding the challenge nonce (32 random bytes,
// base64 standard with padding) until it expires. A session that attested keeps its grant:
// the appraisal a token was issued for. Thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/digest.h"
#include "common/status.h"
#include "evidence/bundle.h"
#include "rp/appraisal.h"

namespace cvm::rp {

// What an attestation earned: the appraised claims, the key resources are sealed to, and the
// token. Immutable once made.
struct Grant {
  evidence::TeeKind tee = evidence::TeeKind::kSnp;
  evidence::Claims claims;
  std::shared_ptr<const SealingKey> tee_key;  // runtime-data.tee-pubkey, checked by the sealer
  TimePoint evidence_time;                    // when the nonce it binds was issued
  TimePoint expires;                          // the token's exp
  std::string token;
  std::string session_id;
  std::string evidence_digest;  // "sha256:<hex>" of the attestation body
};

struct Session {
  std::string id;
  evidence::TeeKind tee = evidence::TeeKind::kSnp;
  std::string nonce;
  DigestAlg hash = DigestAlg::kSha384;
  TimePoint created;
  TimePoint expires;
  std::shared_ptr<const Grant> grant;  // set once attested
};

class SessionStore {
 public:
  SessionStore(const Clock& clock, std::chrono::seconds timeout, size_t max_sessions)
      : clock_(clock), timeout_(timeout), max_sessions_(max_sessions) {}

  // A new session with a fresh id and nonce. kUnavailable when max_sessions live sessions
  // exist (expired ones are dropped first).
  Result<Session> Create(evidence::TeeKind tee);
  // The live session named `id`; kNotFound when unknown, kDeadlineExceeded when expired.
  Result<Session> Get(std::string_view id) const;
  // Marks a session attested. Returns the grant the session holds afterwards: `grant` if the
  // session was not attested yet, or the earlier one if another request won the race.
  Result<std::shared_ptr<const Grant>> Attest(std::string_view id,
                                              std::shared_ptr<const Grant> grant);
  // Bearer tokens: remembers the grant under its token until it expires.
  void RememberToken(std::shared_ptr<const Grant> grant);
  std::shared_ptr<const Grant> FindToken(std::string_view token) const;

  size_t size() const;
  std::chrono::seconds timeout() const { return timeout_; }

 private:
  void PruneLocked(TimePoint now);
  // Drops expired sessions and tokens when the store is full or the last sweep is older than
  // a quarter of the session timeout, so that what a flood of /auth requests leaves behind goes
  // away with time, not only once the store has filled up.
  void MaybePruneLocked(TimePoint now, size_t size);

  // Sessions are keyed by their id's 16 bytes and tokens by their SHA-256, in hash tables: a
  // relying party under load holds thousands of live sessions, and an ordered map of hex strings
  // cost a cache miss per level and per key on every request. Both keys are uniformly random
  // (ids from RAND_bytes, tokens through SHA-256) and only cvm-rp inserts, so their first 8
  // bytes are the hash; a client choosing what it looks up cannot make buckets collide.
  using SessionKey = std::array<uint8_t, 16>;
  using TokenKey = std::array<uint8_t, 32>;
  struct KeyHash {
    template <size_t N>
    size_t operator()(const std::array<uint8_t, N>& key) const {
      static_assert(N >= sizeof(size_t));
      size_t h;
      std::memcpy(&h, key.data(), sizeof(h));
      return h;
    }
  };

  const Clock& clock_;
  const std::chrono::seconds timeout_;
  const size_t max_sessions_;
  mutable std::mutex mu_;
  std::unordered_map<SessionKey, Session, KeyHash> sessions_;                   // guarded by mu_
  std::unordered_map<TokenKey, std::shared_ptr<const Grant>, KeyHash> tokens_;  // guarded by mu_
  TimePoint next_prune_{};                                                      // guarded by mu_
};

}  // namespace cvm::rp
