#include "rp/sessions.h"

#include <openssl/rand.h>

#include <algorithm>
#include <optional>

#include "common/encoding.h"

namespace cvm::rp {
namespace {

template <size_t N>
Status Random(std::array<uint8_t, N>& out) {
  if (RAND_bytes(out.data(), static_cast<int>(N)) != 1) return Internal("RAND_bytes failed");
  return Status::Ok();
}

// The key of a session id as the cookie carries it (32 hex digits); anything else names no
// session.
std::optional<std::array<uint8_t, 16>> IdKey(std::string_view id) {
  auto bytes = HexDecodeFixed(id, 16);
  if (!bytes.ok()) return std::nullopt;
  std::array<uint8_t, 16> key{};
  std::copy(bytes->begin(), bytes->end(), key.begin());
  return key;
}

std::array<uint8_t, 32> TokenKeyOf(std::string_view token) {
  Bytes digest = Sha256(AsBytes(token));
  std::array<uint8_t, 32> key{};
  std::copy(digest.begin(), digest.end(), key.begin());
  return key;
}

}  // namespace

void SessionStore::PruneLocked(TimePoint now) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = it->second.expires <= now ? sessions_.erase(it) : std::next(it);
  }
  for (auto it = tokens_.begin(); it != tokens_.end();) {
    it = it->second->expires <= now ? tokens_.erase(it) : std::next(it);
  }
}

void SessionStore::MaybePruneLocked(TimePoint now, size_t size) {
  if (size < max_sessions_ && now < next_prune_) return;
  PruneLocked(now);
  next_prune_ = now + std::max<std::chrono::milliseconds>(timeout_ / 4, std::chrono::seconds(1));
}

Result<Session> SessionStore::Create(evidence::TeeKind tee) {
  SessionKey id;
  std::array<uint8_t, 32> nonce;
  CVM_RETURN_IF_ERROR(Random(id));
  CVM_RETURN_IF_ERROR(Random(nonce));
  // uuid v4 bits, as Uuid::new_v4().simple() gives them.
  id[6] = static_cast<uint8_t>((id[6] & 0x0f) | 0x40);
  id[8] = static_cast<uint8_t>((id[8] & 0x3f) | 0x80);
  Session s;
  s.id = HexEncode(id);
  s.tee = tee;
  s.nonce = Base64Encode(nonce);
  s.created = clock_.Now();
  s.expires = s.created + timeout_;
  std::lock_guard lock(mu_);
  MaybePruneLocked(s.created, sessions_.size());
  if (sessions_.size() >= max_sessions_) {
    return Unavailable("too many live sessions (" + std::to_string(max_sessions_) + ")");
  }
  sessions_.emplace(id, s);
  return s;
}

Result<Session> SessionStore::Get(std::string_view id) const {
  auto key = IdKey(id);
  if (!key) return NotFound("unknown session");
  std::lock_guard lock(mu_);
  auto it = sessions_.find(*key);
  if (it == sessions_.end()) return NotFound("unknown session");
  if (it->second.expires <= clock_.Now()) return DeadlineExceeded("session expired");
  return it->second;
}

Result<std::shared_ptr<const Grant>> SessionStore::Attest(std::string_view id,
                                                          std::shared_ptr<const Grant> grant) {
  auto key = IdKey(id);
  if (!key) return NotFound("unknown session");
  std::lock_guard lock(mu_);
  auto it = sessions_.find(*key);
  if (it == sessions_.end()) return NotFound("unknown session");
  if (it->second.expires <= clock_.Now()) return DeadlineExceeded("session expired");
  if (!it->second.grant) it->second.grant = std::move(grant);
  return it->second.grant;
}

void SessionStore::RememberToken(std::shared_ptr<const Grant> grant) {
  TokenKey key = TokenKeyOf(grant->token);
  std::lock_guard lock(mu_);
  MaybePruneLocked(clock_.Now(), tokens_.size());
  tokens_[key] = std::move(grant);
}

std::shared_ptr<const Grant> SessionStore::FindToken(std::string_view token) const {
  TokenKey key = TokenKeyOf(token);
  std::lock_guard lock(mu_);
  auto it = tokens_.find(key);
  return it == tokens_.end() ? nullptr : it->second;
}

size_t SessionStore::size() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

}  // namespace cvm::rp
