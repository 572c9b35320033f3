#include "tests/testing/fake_tpm.h"

#include <algorithm>

#include "common/keys.h"
#include "common/signature.h"
#include "tpm/attest.h"
#include "tpm/public_area.h"
#include "tpm/tss_convert.h"

namespace cvm::tpm {
namespace {

constexpr uint64_t kFirmwareVersion = 0x2020031200120003;  // a plausible vendor value

// The AK's public area: the template with the key's public point or modulus filled in.
Result<AkPublic> PublicOf(AkAlg alg, const EVP_PKEY* key) {
  TPM2B_PUBLIC pub = AkTemplate(alg);
  if (alg == AkAlg::kEcP256) {
    CVM_ASSIGN_OR_RETURN(Bytes xy, EcPublicKeyXY(key));
    pub.publicArea.unique.ecc.x.size = 32;
    std::copy(xy.begin(), xy.begin() + 32, pub.publicArea.unique.ecc.x.buffer);
    pub.publicArea.unique.ecc.y.size = 32;
    std::copy(xy.begin() + 32, xy.end(), pub.publicArea.unique.ecc.y.buffer);
  } else {
    CVM_ASSIGN_OR_RETURN(auto ne, RsaPublicKeyNE(key));
    pub.publicArea.unique.rsa.size = static_cast<uint16_t>(ne.first.size());
    std::copy(ne.first.begin(), ne.first.end(), pub.publicArea.unique.rsa.buffer);
  }
  AkPublic out;
  CVM_ASSIGN_OR_RETURN(out.public_area, Marshal(pub, Tss2_MU_TPM2B_PUBLIC_Marshal, "TPM2B_PUBLIC"));
  CVM_ASSIGN_OR_RETURN(Bytes tpmt,
                       Marshal(pub.publicArea, Tss2_MU_TPMT_PUBLIC_Marshal, "TPMT_PUBLIC"));
  out.name = {0x00, 0x0B};  // TPM_ALG_SHA256 || SHA-256(TPMT_PUBLIC)
  Bytes h = Sha256(tpmt);
  out.name.insert(out.name.end(), h.begin(), h.end());
  CVM_ASSIGN_OR_RETURN(out.key, KeyFromTpmPublic(pub.publicArea));
  return out;
}

}  // namespace

FakeTpm::FakeTpm() {
  for (DigestAlg alg :
       {DigestAlg::kSha1, DigestAlg::kSha256, DigestAlg::kSha384, DigestAlg::kSha512}) {
    for (uint32_t i = 0; i <= kMaxPcr; ++i) pcrs_[alg][i] = Bytes(DigestSize(alg), 0);
  }
}

FakeTpm::~FakeTpm() = default;

Status FakeTpm::Injected() {
  if (!fail_next_) return Status::Ok();
  Status st = std::move(*fail_next_);
  fail_next_.reset();
  return st;
}

void FakeTpm::AddPersistentAk(uint32_t handle, AkAlg alg) { persistent_[handle] = alg; }

Result<const FakeTpm::Key*> FakeTpm::KeyFor(AkAlg alg) {
  auto it = keys_.find(alg);
  if (it != keys_.end()) return &it->second;
  Key key{alg, nullptr, {}};
  CVM_ASSIGN_OR_RETURN(key.private_key,
                       alg == AkAlg::kEcP256 ? GenerateEcKey(Curve::kP256) : GenerateRsaKey(2048));
  CVM_ASSIGN_OR_RETURN(key.pub, PublicOf(alg, key.private_key.get()));
  return &keys_.emplace(alg, std::move(key)).first->second;
}

Result<const FakeTpm::Key*> FakeTpm::FindAk(const AkOptions& options) {
  if (!options.persistent_handle) return KeyFor(options.alg);
  auto it = persistent_.find(*options.persistent_handle);
  if (it == persistent_.end()) return NotFound("AK: no persistent object at that handle");
  auto key = persistent_keys_.find(it->first);
  if (key != persistent_keys_.end()) return &key->second;
  Key k{it->second, nullptr, {}};
  CVM_ASSIGN_OR_RETURN(k.private_key, it->second == AkAlg::kEcP256 ? GenerateEcKey(Curve::kP256)
                                                                   : GenerateRsaKey(2048));
  CVM_ASSIGN_OR_RETURN(k.pub, PublicOf(it->second, k.private_key.get()));
  return &persistent_keys_.emplace(it->first, std::move(k)).first->second;
}

Result<PcrValues> FakeTpm::ReadPcrs(const PcrSelection& selection) {
  CVM_RETURN_IF_ERROR(Injected());
  PcrValues out;
  for (const PcrBank& bank : selection.banks) {
    for (uint32_t i : bank.pcrs) {
      if (i > kMaxPcr) return InvalidInput("PCR " + std::to_string(i) + " out of range");
      out[bank.alg][i] = pcrs_.at(bank.alg).at(i);
    }
  }
  return out;
}

Status FakeTpm::ExtendPcr(uint32_t index, const std::map<DigestAlg, Bytes>& digests) {
  CVM_RETURN_IF_ERROR(Injected());
  if (index > kMaxPcr) return InvalidInput("PCR " + std::to_string(index) + " out of range");
  for (const auto& [alg, digest] : digests) {
    if (digest.size() != DigestSize(alg)) return InvalidInput("digest of the wrong size");
  }
  for (const auto& [alg, digest] : digests) {
    Bytes& pcr = pcrs_.at(alg).at(index);
    pcr = Hasher(alg).Update(pcr).Update(digest).Finish();
  }
  return Status::Ok();
}

Result<AkPublic> FakeTpm::ReadAk(const AkOptions& options) {
  CVM_RETURN_IF_ERROR(Injected());
  CVM_ASSIGN_OR_RETURN(const Key* key, FindAk(options));
  AkPublic out{key->pub.public_area, key->pub.name, nullptr};
  out.key.reset(EVP_PKEY_dup(key->pub.key.get()));
  return out;
}

Result<Quote> FakeTpm::MakeQuote(const AkOptions& options, ByteSpan nonce,
                                 const PcrSelection& selection) {
  CVM_RETURN_IF_ERROR(Injected());
  if (nonce.size() > kMaxNonceSize) return InvalidInput("nonce longer than 64 bytes");
  if (selection.empty()) return InvalidInput("empty PCR selection");
  CVM_ASSIGN_OR_RETURN(const Key* key, FindAk(options));
  Quote q;
  CVM_ASSIGN_OR_RETURN(q.pcrs, ReadPcrs(selection));
  CVM_ASSIGN_OR_RETURN(Bytes digest, PcrCompositeDigest(DigestAlg::kSha256, selection, q.pcrs));

  TPMS_ATTEST attest{};
  attest.magic = TPM2_GENERATED_VALUE;
  attest.type = TPM2_ST_ATTEST_QUOTE;
  // A real TPM signs with the AK's qualified name; the fake's AK is a primary endorsement key.
  CVM_ASSIGN_OR_RETURN(PublicArea area, ParsePublicArea(key->pub.public_area));
  Bytes qualified = PrimaryQualifiedName(area, kRhEndorsement);
  attest.qualifiedSigner.size = static_cast<uint16_t>(qualified.size());
  std::copy(qualified.begin(), qualified.end(), attest.qualifiedSigner.name);
  attest.extraData.size = static_cast<uint16_t>(nonce.size());
  std::copy(nonce.begin(), nonce.end(), attest.extraData.buffer);
  clock_ += 1000;
  attest.clockInfo.clock = clock_;
  attest.clockInfo.safe = TPM2_YES;
  attest.firmwareVersion = kFirmwareVersion;
  CVM_ASSIGN_OR_RETURN(attest.attested.quote.pcrSelect, ToTpml(selection));
  attest.attested.quote.pcrDigest.size = static_cast<uint16_t>(digest.size());
  std::copy(digest.begin(), digest.end(), attest.attested.quote.pcrDigest.buffer);
  CVM_ASSIGN_OR_RETURN(q.attest, Marshal(attest, Tss2_MU_TPMS_ATTEST_Marshal, "TPMS_ATTEST"));

  TPMT_SIGNATURE sig{};
  if (key->alg == AkAlg::kEcP256) {
    CVM_ASSIGN_OR_RETURN(Bytes der,
                         SignEcdsaDer(key->private_key.get(), DigestAlg::kSha256, q.attest));
    CVM_ASSIGN_OR_RETURN(Bytes rs, EcdsaDerToRaw(der, 32));
    sig.sigAlg = TPM2_ALG_ECDSA;
    sig.signature.ecdsa.hash = TPM2_ALG_SHA256;
    sig.signature.ecdsa.signatureR.size = 32;
    std::copy(rs.begin(), rs.begin() + 32, sig.signature.ecdsa.signatureR.buffer);
    sig.signature.ecdsa.signatureS.size = 32;
    std::copy(rs.begin() + 32, rs.end(), sig.signature.ecdsa.signatureS.buffer);
  } else {
    CVM_ASSIGN_OR_RETURN(Bytes s,
                         SignRsaPkcs1(key->private_key.get(), DigestAlg::kSha256, q.attest));
    sig.sigAlg = TPM2_ALG_RSASSA;
    sig.signature.rsassa.hash = TPM2_ALG_SHA256;
    sig.signature.rsassa.sig.size = static_cast<uint16_t>(s.size());
    std::copy(s.begin(), s.end(), sig.signature.rsassa.sig.buffer);
  }
  CVM_ASSIGN_OR_RETURN(q.signature, Marshal(sig, Tss2_MU_TPMT_SIGNATURE_Marshal, "TPMT_SIGNATURE"));
  q.ak = AkPublic{key->pub.public_area, key->pub.name, nullptr};
  q.ak.key.reset(EVP_PKEY_dup(key->pub.key.get()));
  ++quotes_;
  return q;
}

Result<Bytes> FakeTpm::NvRead(uint32_t index) {
  CVM_RETURN_IF_ERROR(Injected());
  auto it = nv_.find(index);
  if (it == nv_.end()) return NotFound("NV index is not defined");
  return it->second;
}

Status FakeTpm::NvWrite(uint32_t index, ByteSpan data) {
  CVM_RETURN_IF_ERROR(Injected());
  if (data.empty()) return InvalidInput("nothing to write");
  auto it = nv_.find(index);
  if (it == nv_.end()) {
    nv_[index] = ToBytes(data);
    return Status::Ok();
  }
  if (data.size() > it->second.size()) return InvalidInput("data does not fit in the index");
  std::copy(data.begin(), data.end(), it->second.begin());
  return Status::Ok();
}

Result<size_t> FakeTpm::TransientObjectCount() {
  CVM_RETURN_IF_ERROR(Injected());
  return size_t{0};
}

}  // namespace cvm::tpm
