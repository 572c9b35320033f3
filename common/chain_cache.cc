#include "common/chain_cache.h"

#include <algorithm>

#include "common/digest.h"

namespace cvm {
namespace {

// The cache key: every certificate and CRL by its DER, length-prefixed and grouped with a tag
// and a count, so no two different inputs give the same bytes to hash.
std::array<uint8_t, 32> ChainKey(const Certificate& leaf,
                                 std::span<const Certificate> intermediates,
                                 std::span<const Certificate> anchors,
                                 const ChainOptions& options) {
  Hasher h(DigestAlg::kSha256);
  auto number = [&h](uint8_t tag, uint64_t n) {
    uint8_t b[9] = {tag};
    for (int i = 0; i < 8; ++i) b[1 + i] = static_cast<uint8_t>(n >> (8 * i));
    h.Update(ByteSpan(b, sizeof(b)));
  };
  auto add = [&](const Bytes& der) {
    number('D', der.size());
    h.Update(der);
  };
  number(options.allow_partial_chain ? 'P' : 'F', 0);
  number('L', 1);
  add(leaf.Der());
  number('I', intermediates.size());
  for (const auto& c : intermediates) add(c.Der());
  number('A', anchors.size());
  for (const auto& c : anchors) add(c.Der());
  number('R', options.crls.size());
  for (const auto& c : options.crls) add(c.Der());
  Bytes digest = h.Finish();
  std::array<uint8_t, 32> key{};
  std::copy_n(digest.begin(), key.size(), key.begin());
  return key;
}

}  // namespace

size_t ChainCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

uint64_t ChainCache::hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}

uint64_t ChainCache::parse_hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return parse_hits_;
}

ChainCache::Key ChainCache::MemoKey(std::string_view kind, ByteSpan input) {
  Hasher h(DigestAlg::kSha256);
  uint8_t n = static_cast<uint8_t>(std::min<size_t>(kind.size(), 255));
  h.Update(ByteSpan(&n, 1)).Update(AsBytes(kind.substr(0, n))).Update(input);
  Key key{};
  Bytes digest = h.Finish();
  std::copy_n(digest.begin(), key.size(), key.begin());
  return key;
}

std::shared_ptr<const void> ChainCache::FindMemo(const Key& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = memos_.find(key);
  if (it == memos_.end()) return nullptr;
  ++parse_hits_;
  return it->second;
}

void ChainCache::StoreMemo(const Key& key, std::shared_ptr<const void> value) {
  std::lock_guard<std::mutex> lock(mu_);
  if (capacity_ == 0) return;
  auto [it, added] = memos_.emplace(key, std::move(value));
  (void)it;
  if (!added) return;
  memos_order_.push_back(key);
  while (memos_.size() > capacity_) {
    memos_.erase(memos_order_.front());
    memos_order_.pop_front();
  }
}

bool ChainCache::Hit(const Key& key, TimePoint at) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  // Strictly inside every period: no boundary case depends on how OpenSSL compares.
  if (it == entries_.end() || !IsBefore(it->second.not_before, at) ||
      !IsAfter(it->second.not_after, at)) {
    return false;
  }
  ++hits_;
  return true;
}

void ChainCache::Remember(const Key& key, Window window) {
  std::lock_guard<std::mutex> lock(mu_);
  if (capacity_ == 0) return;
  auto [it, added] = entries_.insert_or_assign(key, window);
  (void)it;
  if (!added) return;
  order_.push_back(key);
  while (entries_.size() > capacity_) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
}

Status VerifyChainCached(ChainCache* cache, const Certificate& leaf,
                         std::span<const Certificate> intermediates,
                         std::span<const Certificate> anchors, const ChainOptions& options) {
  if (cache == nullptr || anchors.empty()) {
    return VerifyChain(leaf, intermediates, anchors, options);
  }
  ChainCache::Key key = ChainKey(leaf, intermediates, anchors, options);
  if (cache->Hit(key, options.at)) return Status::Ok();
  CVM_RETURN_IF_ERROR(VerifyChain(leaf, intermediates, anchors, options));
  // The period in which every time check passes; a time that does not parse: not remembered.
  ChainCache::Window w{CertTime::min(), CertTime::max()};
  auto narrow = [&w](const Certificate& c) {
    auto nb = c.NotBefore();
    auto na = c.NotAfter();
    if (!nb.ok() || !na.ok()) return false;
    w.not_before = std::max(w.not_before, *nb);
    w.not_after = std::min(w.not_after, *na);
    return true;
  };
  bool ok = narrow(leaf);
  for (const auto& c : intermediates) ok = ok && narrow(c);
  for (const auto& c : anchors) ok = ok && narrow(c);
  for (const auto& crl : options.crls) {
    auto tu = crl.ThisUpdate();
    auto nu = crl.NextUpdate();
    if (!ok || !tu.ok() || !nu.ok()) {
      ok = false;
      break;
    }
    w.not_before = std::max(w.not_before, *tu);
    if (*nu) w.not_after = std::min(w.not_after, **nu);
  }
  if (ok) cache->Remember(key, w);
  return Status::Ok();
}

Result<std::vector<Certificate>> ParseCertificatesCached(ChainCache* cache, ByteSpan data) {
  if (cache == nullptr) return ParseCertificates(data);
  ChainCache::Key key{};
  Bytes digest = Sha256(data);
  std::copy_n(digest.begin(), key.size(), key.begin());
  {
    std::lock_guard<std::mutex> lock(cache->mu_);
    auto it = cache->parsed_.find(key);
    if (it != cache->parsed_.end()) {
      ++cache->parse_hits_;
      return it->second;
    }
  }
  CVM_ASSIGN_OR_RETURN(std::vector<Certificate> certs, ParseCertificates(data));
  std::lock_guard<std::mutex> lock(cache->mu_);
  if (cache->capacity_ == 0) return certs;
  auto [it, added] = cache->parsed_.emplace(key, certs);
  (void)it;
  if (added) {
    cache->parsed_order_.push_back(key);
    while (cache->parsed_.size() > cache->capacity_) {
      cache->parsed_.erase(cache->parsed_order_.front());
      cache->parsed_order_.pop_front();
    }
  }
  return certs;
}

Result<Certificate> CertificateFromDerCached(ChainCache* cache, ByteSpan der) {
  if (cache == nullptr) return Certificate::FromDer(der);
  ChainCache::Key key = ChainCache::MemoKey("certificate from DER", der);
  if (auto found = cache->FindMemo(key)) return *static_cast<const Certificate*>(found.get());
  CVM_ASSIGN_OR_RETURN(Certificate cert, Certificate::FromDer(der));
  cache->StoreMemo(key, std::make_shared<const Certificate>(cert));
  return cert;
}

Result<ossl::PKey> EcPublicKeyCached(ChainCache* cache, Curve curve, ByteSpan x, ByteSpan y) {
  if (cache == nullptr) return EcPublicKeyFromXY(curve, x, y);
  Hasher h(DigestAlg::kSha256);
  uint8_t tag[2] = {'K', static_cast<uint8_t>(curve)};
  h.Update(ByteSpan(tag, sizeof(tag))).Update(x).Update(y);
  ChainCache::Key key{};
  Bytes digest = h.Finish();
  std::copy_n(digest.begin(), key.size(), key.begin());
  auto shared = [](const ossl::PKey& k) {
    EVP_PKEY_up_ref(k.get());
    return ossl::PKey(k.get());
  };
  {
    std::lock_guard<std::mutex> lock(cache->mu_);
    auto it = cache->keys_.find(key);
    if (it != cache->keys_.end()) {
      ++cache->parse_hits_;
      return shared(it->second);
    }
  }
  CVM_ASSIGN_OR_RETURN(ossl::PKey decoded, EcPublicKeyFromXY(curve, x, y));
  std::lock_guard<std::mutex> lock(cache->mu_);
  if (cache->capacity_ == 0) return decoded;
  auto [it, added] = cache->keys_.emplace(key, shared(decoded));
  (void)it;
  if (added) {
    cache->keys_order_.push_back(key);
    while (cache->keys_.size() > cache->capacity_) {
      cache->keys_.erase(cache->keys_order_.front());
      cache->keys_order_.pop_front();
    }
  }
  return decoded;
}

}  // namespace cvm
