// A software Tpm for tests of the code above the Tpm seam (agent, evidence, relying party):
// quotes that VerifyQuote and tpm2_checkquote accept (a real TPMS_ATTEST marshalled by tss2-mu,
// signed with a real key), PCR banks that extend, NV indices in memory, persistent AKs, and
// failures injected on demand. Not a security boundary: the AK's private key is in process
// memory. Not thread-safe.
#pragma once

#include <map>
#include <optional>

#include "common/ossl.h"
#include "tpm/tpm.h"

namespace cvm::tpm {

class FakeTpm final : public Tpm {
 public:
  // Every bank (sha1, sha256, sha384, sha512) starts with all 24 PCRs at zero.
  FakeTpm();
  ~FakeTpm() override;

  // The next call of any Tpm method returns `status` (and does nothing else).
  // REQUIRES: !status.ok()
  void FailNext(Status status) { fail_next_ = std::move(status); }
  // Makes `handle` a persistent AK of type `alg` (e.g. kAzureAkHandle).
  void AddPersistentAk(uint32_t handle, AkAlg alg);
  // The number of quotes made so far.
  int quotes() const { return quotes_; }

  Result<PcrValues> ReadPcrs(const PcrSelection& selection) override;
  Status ExtendPcr(uint32_t index, const std::map<DigestAlg, Bytes>& digests) override;
  Result<AkPublic> ReadAk(const AkOptions& options) override;
  Result<Quote> MakeQuote(const AkOptions& options, ByteSpan nonce,
                          const PcrSelection& selection) override;
  Result<Bytes> NvRead(uint32_t index) override;
  Status NvWrite(uint32_t index, ByteSpan data) override;
  Result<size_t> TransientObjectCount() override;

 private:
  struct Key {
    AkAlg alg;
    ossl::PKey private_key;
    AkPublic pub;
  };
  // Pops the injected failure, if any.
  Status Injected();
  Result<const Key*> FindAk(const AkOptions& options);
  Result<const Key*> KeyFor(AkAlg alg);  // created on first use

  PcrValues pcrs_;
  std::map<uint32_t, Bytes> nv_;
  std::map<AkAlg, Key> keys_;  // the created AKs
  std::map<uint32_t, AkAlg> persistent_;
  std::map<uint32_t, Key> persistent_keys_;
  std::optional<Status> fail_next_;
  uint64_t clock_ = 0;
  int quotes_ = 0;
};

}  // namespace cvm::tpm
