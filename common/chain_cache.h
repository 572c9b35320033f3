// Certificate chains that verified, remembered so that a verifier that sees the same
// certificates again (a relying party and the VCEK or PCK of a platform it already knows) pays
// for their signatures once.
#pragma once

#include <array>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>

#include "common/keys.h"
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
//
// It also remembers parsed certificates by their input bytes (ParseCertificatesCached): a
// relying party sees the same PCK chain PEM in every quote from a platform, and OpenSSL 3 spends
// more on decoding three certificates and their keys than on the two signatures of the quote.
// Parsing is a pure function of the bytes, so this changes no result; the certificates are
// shared (Certificate is reference-counted and never mutated), and every check on them still
// runs on every call. In the same way it keeps EC public keys decoded from their coordinates
// (EcPublicKeyCached: a platform's TDX attestation key is the same in every quote).
class ChainCache {
 public:
  explicit ChainCache(size_t capacity = 256) : capacity_(capacity) {}
  ChainCache(const ChainCache&) = delete;
  ChainCache& operator=(const ChainCache&) = delete;

  size_t size() const;
  uint64_t hits() const;        // how many calls were answered from the cache
  uint64_t parse_hits() const;  // how many ParseCertificatesCached and EcPublicKeyCached calls
                                // reused a parse

  // A value decoded from bytes, remembered under a key the caller derives from those bytes
  // (MemoKey) and shared: for pure functions of their input only (parsing a certificate's
  // extension, say), so that sharing the result changes nothing. nullptr when not remembered.
  using Key = std::array<uint8_t, 32>;  // SHA-256
  static Key MemoKey(std::string_view kind, ByteSpan input);
  std::shared_ptr<const void> FindMemo(const Key& key);
  void StoreMemo(const Key& key, std::shared_ptr<const void> value);

 private:
  friend Status VerifyChainCached(ChainCache* cache, const Certificate& leaf,
                                  std::span<const Certificate> intermediates,
                                  std::span<const Certificate> anchors,
                                  const ChainOptions& options);
  friend Result<std::vector<Certificate>> ParseCertificatesCached(ChainCache* cache, ByteSpan data);
  friend Result<Certificate> CertificateFromDerCached(ChainCache* cache, ByteSpan der);
  friend Result<ossl::PKey> EcPublicKeyCached(ChainCache* cache, Curve curve, ByteSpan x,
                                              ByteSpan y);
  struct Window {
    CertTime not_before;  // the latest notBefore / thisUpdate
    CertTime not_after;   // the earliest notAfter / nextUpdate
  };
  bool Hit(const Key& key, TimePoint at);
  void Remember(const Key& key, Window window);

  const size_t capacity_;
  mutable std::mutex mu_;
  std::map<Key, Window> entries_;                   // guarded by mu_
  std::list<Key> order_;                            // guarded by mu_; oldest first
  uint64_t hits_ = 0;                               // guarded by mu_
  std::map<Key, std::vector<Certificate>> parsed_;  // guarded by mu_; by SHA-256 of the input
  std::list<Key> parsed_order_;                     // guarded by mu_; oldest first
  std::map<Key, ossl::PKey> keys_;  // guarded by mu_; by SHA-256 of the curve, x and y
  std::list<Key> keys_order_;       // guarded by mu_; oldest first
  std::map<Key, std::shared_ptr<const void>> memos_;  // guarded by mu_
  std::list<Key> memos_order_;                        // guarded by mu_; oldest first
  uint64_t parse_hits_ = 0;                           // guarded by mu_
};

// VerifyChain (x509.h) through `cache` under the conditions above; `cache` nullptr: VerifyChain.
// Same results and errors as VerifyChain.
Status VerifyChainCached(ChainCache* cache, const Certificate& leaf,
                         std::span<const Certificate> intermediates,
                         std::span<const Certificate> anchors, const ChainOptions& options);

// ParseCertificates (x509.h) of `data`, taken from `cache` when the same bytes (by SHA-256) were
// parsed before; `cache` nullptr: ParseCertificates. Same results and errors as
// ParseCertificates (errors are not remembered).
Result<std::vector<Certificate>> ParseCertificatesCached(ChainCache* cache, ByteSpan data);

// Certificate::FromDer (x509.h) of `der`, taken from `cache` when the same bytes were parsed
// before (a relying party receives the same VCEK in every bundle from a platform); `cache`
// nullptr: Certificate::FromDer. Same results and errors; errors are not remembered.
Result<Certificate> CertificateFromDerCached(ChainCache* cache, ByteSpan der);

// EcPublicKeyFromXY (keys.h), taken from `cache` when the same curve and coordinates were decoded
// (and found on the curve) before: the key is shared (EVP_PKEY is reference-counted and only
// read). `cache` nullptr: EcPublicKeyFromXY. Same results and errors; errors are not remembered.
Result<ossl::PKey> EcPublicKeyCached(ChainCache* cache, Curve curve, ByteSpan x, ByteSpan y);

}  // namespace cvm
