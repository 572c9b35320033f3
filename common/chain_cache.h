// Certificate chains that verified, remembered so that a verifier that sees the same
// certificates again (a relying party and the VCEK or PCK of a platform it already knows) pays
// for their signatures once.
#pragma once

#include <array>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <span>

#include "common/x509.h"

namespace cvm {

// The key is SHA-256 over the DER of the leaf, every intermediate, every anchor and every CRL,
// and allow_partial_chain: any other byte is another entry. A remembered success is used only
// when the evaluation time lies strictly within the validity period of every one of those
// certificates and between thisUpdate and nextUpdate of every CRL. There every time check of
// VerifyChain passes, and its signature, constraint and revocation checks do not depend on the
// time, so verifying in full would succeed too. Otherwise the chain is verified in full (and a
// new success remembered). Failures are never remembered. At most `capacity` entries (the
// oldest is dropped). Thread-safe.
class ChainCache {
 public:
  explicit ChainCache(size_t capacity = 256) : capacity_(capacity) {}
  ChainCache(const ChainCache&) = delete;
  ChainCache& operator=(const ChainCache&) = delete;

  size_t size() const;
  uint64_t hits() const;  // how many calls were answered from the cache

 private:
  friend Status VerifyChainCached(ChainCache* cache, const Certificate& leaf,
                                  std::span<const Certificate> intermediates,
                                  std::span<const Certificate> anchors,
                                  const ChainOptions& options);
  using Key = std::array<uint8_t, 32>;  // SHA-256
  struct Window {
    CertTime not_before;  // the latest notBefore / thisUpdate
    CertTime not_after;   // the earliest notAfter / nextUpdate
  };
  bool Hit(const Key& key, TimePoint at);
  void Remember(const Key& key, Window window);

  const size_t capacity_;
  mutable std::mutex mu_;
  std::map<Key, Window> entries_;  // guarded by mu_
  std::list<Key> order_;           // guarded by mu_; oldest first
  uint64_t hits_ = 0;              // guarded by mu_
};

// VerifyChain (x509.h) through `cache` under the conditions above; `cache` nullptr: VerifyChain.
// Same results and errors as VerifyChain.
Status VerifyChainCached(ChainCache* cache, const Certificate& leaf,
                         std::span<const Certificate> intermediates,
                         std::span<const Certificate> anchors, const ChainOptions& options);

}  // namespace cvm
