#include "common/digest.h"

#include <cstdlib>

namespace cvm {

namespace {

// OpenSSL 3 resolves a legacy EVP_sha256() to its provider implementation on every
// EVP_DigestInit_ex / EVP_DigestVerifyInit (an "implicit fetch": method-store lookups under a
// lock); a digest fetched once is used directly. Fetched once per process and kept for its
// lifetime (never freed: OpenSSL's own exit handler may run first).
const EVP_MD* Fetched(const char* name, const EVP_MD* legacy) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  return md != nullptr ? md : legacy;  // no default provider: the implicit fetch still works
}

}  // namespace

const EVP_MD* EvpMd(DigestAlg alg) {
  static const EVP_MD* const kSha1 = Fetched("SHA1", EVP_sha1());
  static const EVP_MD* const kSha256 = Fetched("SHA256", EVP_sha256());
  static const EVP_MD* const kSha384 = Fetched("SHA384", EVP_sha384());
  static const EVP_MD* const kSha512 = Fetched("SHA512", EVP_sha512());
  switch (alg) {
    case DigestAlg::kSha1:
      return kSha1;
    case DigestAlg::kSha256:
      return kSha256;
    case DigestAlg::kSha384:
      return kSha384;
    case DigestAlg::kSha512:
      return kSha512;
  }
  std::abort();
}

size_t DigestSize(DigestAlg alg) {
  switch (alg) {
    case DigestAlg::kSha1:
      return 20;
    case DigestAlg::kSha256:
      return 32;
    case DigestAlg::kSha384:
      return 48;
    case DigestAlg::kSha512:
      return 64;
  }
  std::abort();
}

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
