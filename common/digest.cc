#include "common/digest.h"

#include <cstdlib>

namespace cvm {

const EVP_MD* EvpMd(DigestAlg alg) {
  switch (alg) {
    case DigestAlg::kSha1:
      return EVP_sha1();
    case DigestAlg::kSha256:
      return EVP_sha256();
    case DigestAlg::kSha384:
      return EVP_sha384();
    case DigestAlg::kSha512:
      return EVP_sha512();
  }
  std::abort();
}

size_t DigestSize(DigestAlg alg) { return static_cast<size_t>(EVP_MD_get_size(EvpMd(alg))); }

std::string_view DigestName(DigestAlg alg) {
  switch (alg) {
    case DigestAlg::kSha1:
      return "sha1";
    case DigestAlg::kSha256:
      return "sha256";
    case DigestAlg::kSha384:
      return "sha384";
    case DigestAlg::kSha512:
      return "sha512";
  }
  return "unknown";
}

Bytes Digest(DigestAlg alg, ByteSpan data) { return Hasher(alg).Update(data).Finish(); }

// EVP digest calls on a freshly initialised context with a built-in digest fail only on
// allocation failure, which we treat like any other out-of-memory condition: abort.
Hasher::Hasher(DigestAlg alg) : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EvpMd(alg), nullptr) != 1) std::abort();
}

Hasher::~Hasher() { EVP_MD_CTX_free(ctx_); }

Hasher& Hasher::Update(ByteSpan data) {
  if (EVP_DigestUpdate(ctx_, data.data(), data.size()) != 1) std::abort();
  return *this;
}

Bytes Hasher::Finish() {
  Bytes out(static_cast<size_t>(EVP_MD_CTX_get_size(ctx_)));
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx_, out.data(), &n) != 1) std::abort();
  out.resize(n);
  return out;
}

}  // namespace cvm
