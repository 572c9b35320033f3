// Message digests through OpenSSL EVP.
#pragma once

#include <openssl/evp.h>

#include <string_view>

#include "common/bytes.h"

namespace cvm {

enum class DigestAlg { kSha1, kSha256, kSha384, kSha512 };

const EVP_MD* EvpMd(DigestAlg alg);
size_t DigestSize(DigestAlg alg);
std::string_view DigestName(DigestAlg alg);  // "sha256"

Bytes Digest(DigestAlg alg, ByteSpan data);
inline Bytes Sha256(ByteSpan data) { return Digest(DigestAlg::kSha256, data); }
inline Bytes Sha384(ByteSpan data) { return Digest(DigestAlg::kSha384, data); }
inline Bytes Sha512(ByteSpan data) { return Digest(DigestAlg::kSha512, data); }

// Incremental hashing, e.g. over the pieces of a signed structure.
class Hasher {
 public:
  explicit Hasher(DigestAlg alg);
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  Hasher& Update(ByteSpan data);
  Bytes Finish();

 private:
  EVP_MD_CTX* ctx_;
};

}  // namespace cvm
