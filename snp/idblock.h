// The SNP ID block and ID authentication structure (AMD SEV-SNP Firmware ABI, SNP_LAUNCH_FINISH,
// tables "ID_BLOCK" and "ID_AUTH"), which the VMM passes at launch (QEMU: sev-snp-guest id-block=
// and id-auth=, base64). The firmware checks that the block's LD equals the launch digest and its
// POLICY the guest policy, verifies both signatures, and then reports the block's FAMILY_ID,
// IMAGE_ID and GUEST_SVN and the SHA-384 digests of the two public keys (ID_KEY_DIGEST,
// AUTHOR_KEY_DIGEST).
//
// ID_BLOCK (96 bytes, little-endian):
//   0x00 LD[48] | 0x30 FAMILY_ID[16] | 0x40 IMAGE_ID[16] | 0x50 VERSION u32 (1) |
//   0x54 GUEST_SVN u32 | 0x58 POLICY u64
// ID_AUTH (4096 bytes):
//   0x000 ID_KEY_ALGO u32 | 0x004 AUTH_KEY_ALGO u32 (1 = ECDSA P-384 with SHA-384) |
//   0x040 ID_BLOCK_SIG[0x200] | 0x240 ID_KEY[0x404] | 0x680 ID_KEY_SIG[0x200] |
//   0x880 AUTHOR_KEY[0x404]; everything else reserved (zero)
// Public key (0x404 bytes): CURVE u32 (2 = P-384) | QX[72] | QY[72] little-endian, zero-padded |
//   reserved.
// Signature (0x200 bytes): R[72] | S[72] little-endian, zero-padded | reserved.
// ID_BLOCK_SIG signs the 96-byte block with the ID key; ID_KEY_SIG signs the ID key's 0x404-byte
// public key structure with the author key.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/bytes.h"
#include "common/ossl.h"

namespace cvm::snp {

inline constexpr size_t kIdBlockSize = 96;
inline constexpr size_t kIdAuthSize = 4096;
inline constexpr size_t kSnpPublicKeySize = 0x404;
inline constexpr size_t kSnpSignatureSize = 0x200;

struct IdBlockParams {
  Bytes measurement;            // 48 bytes: the launch digest
  Bytes family_id = Bytes(16);  // 16 bytes
  Bytes image_id = Bytes(16);   // 16 bytes
  uint32_t version = 1;         // the ABI defines only version 1
  uint32_t guest_svn = 0;
  uint64_t policy = 0x30000;  // the guest policy the VMM launches with (SMT allowed, bit 17 set)
};

// The 96-byte block. kInvalidInput for field sizes other than the ABI's, a version other than 1
// or a policy without its must-be-one bit 17.
Result<Bytes> EncodeIdBlock(const IdBlockParams& params);

// An EC P-384 private key from PEM (SEC1 "EC PRIVATE KEY" or PKCS#8). kInvalidInput for other
// keys or curves. The caller owns the key.
Result<ossl::PKey> LoadSnpSigningKey(std::string_view pem);

// The 0x404-byte public key structure of an EC P-384 key, and its SHA-384 (what the report
// carries as ID_KEY_DIGEST / AUTHOR_KEY_DIGEST).
Result<Bytes> SnpPublicKey(const EVP_PKEY* key);
Result<Bytes> SnpKeyDigest(const EVP_PKEY* key);

// An ECDSA P-384/SHA-384 signature of `data` in the ABI's 0x200-byte format, and its check
// (kRejected when it does not hold).
Result<Bytes> SnpSign(const EVP_PKEY* key, ByteSpan data);
Status SnpVerify(const EVP_PKEY* public_key, ByteSpan data, ByteSpan signature);

struct SignedIdBlock {
  Bytes id_block;           // 96 bytes
  Bytes id_auth;            // 4096 bytes
  Bytes id_key_digest;      // 48 bytes
  Bytes author_key_digest;  // 48 bytes
};
// Encodes and signs the block (a fresh randomized signature each call).
Result<SignedIdBlock> SignIdBlock(const IdBlockParams& params, const EVP_PKEY* id_key,
                                  const EVP_PKEY* author_key);

// Checks an ID block and ID auth structure as the firmware does: sizes, algorithms and curves,
// ID_BLOCK_SIG by the ID key and ID_KEY_SIG by the author key. Returns the two key digests.
// kInvalidInput for malformed structures, kRejected when a signature does not hold.
Result<SignedIdBlock> VerifyIdBlock(ByteSpan id_block, ByteSpan id_auth);

}  // namespace cvm::snp
