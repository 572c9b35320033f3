#include "snp/idblock.h"

#include <algorithm>

#include "common/digest.h"
#include "common/keys.h"
#include "common/signature.h"

namespace cvm::snp {
namespace {

constexpr uint32_t kAlgoEcdsaP384Sha384 = 1;
constexpr uint32_t kCurveP384 = 2;
constexpr size_t kComponentSize = 72;  // R, S, QX and QY fields: 72 bytes, little-endian
constexpr size_t kP384Size = 48;

constexpr size_t kIdBlockSigOffset = 0x040, kIdKeyOffset = 0x240, kIdKeySigOffset = 0x680,
                 kAuthorKeyOffset = 0x880;

// Big-endian `be` into a zero-padded little-endian field.
void PutLe(Bytes& out, size_t offset, ByteSpan be) {
  for (size_t i = 0; i < be.size(); ++i) out[offset + i] = be[be.size() - 1 - i];
}

// The first `n` bytes of a little-endian field, big-endian.
Bytes GetBe(ByteSpan le, size_t offset, size_t n) {
  Bytes out(n);
  for (size_t i = 0; i < n; ++i) out[i] = le[offset + n - 1 - i];
  return out;
}

Status CheckP384(const EVP_PKEY* key, std::string_view what) {
  auto curve = EcKeyCurve(key);
  if (!curve.ok() || *curve != Curve::kP384) {
    return InvalidInput(std::string(what) + " is not an EC P-384 key (SNP ID keys are P-384)");
  }
  return Status::Ok();
}

// The public key structure back to a key; kInvalidInput when malformed.
Result<ossl::PKey> FromSnpPublicKey(ByteSpan s, std::string_view what) {
  if (LoadLe32(s, 0) != kCurveP384) {
    return InvalidInput(std::string(what) + ": curve " + std::to_string(LoadLe32(s, 0)) +
                        " is not P-384 (2)");
  }
  // The padding above the 48 significant bytes and the reserved area must be zero.
  if (!IsAllZero(s.subspan(4 + kP384Size, kComponentSize - kP384Size)) ||
      !IsAllZero(s.subspan(4 + kComponentSize + kP384Size, kComponentSize - kP384Size)) ||
      !IsAllZero(s.subspan(4 + 2 * kComponentSize))) {
    return InvalidInput(std::string(what) + ": non-zero padding or reserved bytes");
  }
  auto key = EcPublicKeyFromXY(Curve::kP384, GetBe(s, 4, kP384Size),
                               GetBe(s, 4 + kComponentSize, kP384Size));
  if (!key.ok()) return key.status().WithContext(what);
  return key;
}

}  // namespace

Result<Bytes> EncodeIdBlock(const IdBlockParams& p) {
  if (p.measurement.size() != 48) {
    return InvalidInput("ID block: the measurement must be 48 bytes, got " +
                        std::to_string(p.measurement.size()));
  }
  if (p.family_id.size() != 16 || p.image_id.size() != 16) {
    return InvalidInput("ID block: FAMILY_ID and IMAGE_ID must be 16 bytes each");
  }
  if (p.version != 1) {
    return InvalidInput("ID block: version " + std::to_string(p.version) +
                        " (the SNP ABI defines only version 1, and the firmware refuses others)");
  }
  if ((p.policy & (1ULL << 17)) == 0) {
    return InvalidInput(
        "ID block: guest policy bit 17 must be one (the firmware refuses the "
        "launch otherwise)");
  }
  Bytes b(kIdBlockSize, 0);
  std::copy(p.measurement.begin(), p.measurement.end(), b.begin());
  std::copy(p.family_id.begin(), p.family_id.end(), b.begin() + 0x30);
  std::copy(p.image_id.begin(), p.image_id.end(), b.begin() + 0x40);
  StoreLe32(b, 0x50, p.version);
  StoreLe32(b, 0x54, p.guest_svn);
  StoreLe64(b, 0x58, p.policy);
  return b;
}

Result<ossl::PKey> LoadSnpSigningKey(std::string_view pem) {
  CVM_ASSIGN_OR_RETURN(ossl::PKey key, PrivateKeyFromPem(pem));
  CVM_RETURN_IF_ERROR(CheckP384(key.get(), "the key"));
  return key;
}

Result<Bytes> SnpPublicKey(const EVP_PKEY* key) {
  CVM_RETURN_IF_ERROR(CheckP384(key, "the key"));
  CVM_ASSIGN_OR_RETURN(Bytes xy, EcPublicKeyXY(key));
  Bytes out(kSnpPublicKeySize, 0);
  StoreLe32(out, 0, kCurveP384);
  PutLe(out, 4, ByteSpan(xy).first(kP384Size));
  PutLe(out, 4 + kComponentSize, ByteSpan(xy).subspan(kP384Size, kP384Size));
  return out;
}

Result<Bytes> SnpKeyDigest(const EVP_PKEY* key) {
  CVM_ASSIGN_OR_RETURN(Bytes pub, SnpPublicKey(key));
  return Sha384(pub);
}

Result<Bytes> SnpSign(const EVP_PKEY* key, ByteSpan data) {
  CVM_RETURN_IF_ERROR(CheckP384(key, "the signing key"));
  CVM_ASSIGN_OR_RETURN(Bytes der, SignEcdsaDer(key, DigestAlg::kSha384, data));
  CVM_ASSIGN_OR_RETURN(Bytes rs, EcdsaDerToRaw(der, kP384Size));
  Bytes out(kSnpSignatureSize, 0);
  PutLe(out, 0, ByteSpan(rs).first(kP384Size));
  PutLe(out, kComponentSize, ByteSpan(rs).subspan(kP384Size, kP384Size));
  return out;
}

Status SnpVerify(const EVP_PKEY* public_key, ByteSpan data, ByteSpan signature) {
  if (signature.size() != kSnpSignatureSize) {
    return InvalidInput("signature must be " + std::to_string(kSnpSignatureSize) + " bytes");
  }
  // R and S are at most 48 significant bytes; VerifyEcdsaRaw takes leading zeros.
  return VerifyEcdsaRaw(public_key, DigestAlg::kSha384, data, GetBe(signature, 0, kComponentSize),
                        GetBe(signature, kComponentSize, kComponentSize));
}

Result<SignedIdBlock> SignIdBlock(const IdBlockParams& params, const EVP_PKEY* id_key,
                                  const EVP_PKEY* author_key) {
  CVM_RETURN_IF_ERROR(CheckP384(id_key, "the ID key"));
  CVM_RETURN_IF_ERROR(CheckP384(author_key, "the author key"));
  SignedIdBlock out;
  CVM_ASSIGN_OR_RETURN(out.id_block, EncodeIdBlock(params));
  CVM_ASSIGN_OR_RETURN(Bytes id_pub, SnpPublicKey(id_key));
  CVM_ASSIGN_OR_RETURN(Bytes author_pub, SnpPublicKey(author_key));
  CVM_ASSIGN_OR_RETURN(Bytes block_sig, SnpSign(id_key, out.id_block));
  CVM_ASSIGN_OR_RETURN(Bytes key_sig, SnpSign(author_key, id_pub));
  out.id_auth.assign(kIdAuthSize, 0);
  StoreLe32(out.id_auth, 0, kAlgoEcdsaP384Sha384);
  StoreLe32(out.id_auth, 4, kAlgoEcdsaP384Sha384);
  auto put = [&](size_t off, const Bytes& b) {
    std::copy(b.begin(), b.end(), out.id_auth.begin() + static_cast<std::ptrdiff_t>(off));
  };
  put(kIdBlockSigOffset, block_sig);
  put(kIdKeyOffset, id_pub);
  put(kIdKeySigOffset, key_sig);
  put(kAuthorKeyOffset, author_pub);
  out.id_key_digest = Sha384(id_pub);
  out.author_key_digest = Sha384(author_pub);
  return out;
}

Result<SignedIdBlock> VerifyIdBlock(ByteSpan id_block, ByteSpan id_auth) {
  if (id_block.size() != kIdBlockSize || id_auth.size() != kIdAuthSize) {
    return InvalidInput("ID block must be 96 bytes and ID auth 4096 bytes, got " +
                        std::to_string(id_block.size()) + " and " + std::to_string(id_auth.size()));
  }
  if (LoadLe32(id_block, 0x50) != 1) return InvalidInput("ID block: version is not 1");
  if (LoadLe32(id_auth, 0) != kAlgoEcdsaP384Sha384 ||
      LoadLe32(id_auth, 4) != kAlgoEcdsaP384Sha384) {
    return InvalidInput("ID auth: key algorithms must be 1 (ECDSA P-384 with SHA-384)");
  }
  ByteSpan id_pub = id_auth.subspan(kIdKeyOffset, kSnpPublicKeySize);
  ByteSpan author_pub = id_auth.subspan(kAuthorKeyOffset, kSnpPublicKeySize);
  CVM_ASSIGN_OR_RETURN(ossl::PKey id_key, FromSnpPublicKey(id_pub, "ID auth: ID key"));
  CVM_ASSIGN_OR_RETURN(ossl::PKey author_key, FromSnpPublicKey(author_pub, "ID auth: author key"));
  Status s =
      SnpVerify(id_key.get(), id_block, id_auth.subspan(kIdBlockSigOffset, kSnpSignatureSize));
  if (!s.ok()) return s.WithContext("ID auth: ID_BLOCK_SIG by the ID key");
  s = SnpVerify(author_key.get(), id_pub, id_auth.subspan(kIdKeySigOffset, kSnpSignatureSize));
  if (!s.ok()) return s.WithContext("ID auth: ID_KEY_SIG by the author key");
  SignedIdBlock out;
  out.id_block = ToBytes(id_block);
  out.id_auth = ToBytes(id_auth);
  out.id_key_digest = Sha384(id_pub);
  out.author_key_digest = Sha384(author_pub);
  return out;
}

}  // namespace cvm::snp
