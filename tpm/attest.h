// TPM2_Quote evidence: the TPMS_ATTEST structure, the TPMT_SIGNATURE over it, and their
// verification against an attestation key (AK), a nonce and PCR values.
//
// Formats (TPM 2.0 Part 2; all integers big-endian):
//   TPMS_ATTEST   = u32 magic (0xFF544347, TPM_GENERATED_VALUE) | u16 type (0x8018, ATTEST_QUOTE)
//                   | TPM2B_NAME qualifiedSigner | TPM2B_DATA extraData
//                   | TPMS_CLOCK_INFO {u64 clock, u32 resetCount, u32 restartCount, u8 safe}
//                   | u64 firmwareVersion | TPMS_QUOTE_INFO {TPML_PCR_SELECTION, TPM2B_DIGEST}
//   TPML_PCR_SELECTION = u32 count | {u16 hash, u8 sizeofSelect, u8 pcrSelect[sizeofSelect]}[count]
//                   (bit i of byte j selects PCR 8*j+i)
//   TPMT_SIGNATURE = u16 sigAlg | u16 hash | RSASSA/RSAPSS: TPM2B sig | ECDSA: TPM2B r, TPM2B s
//
// Parsers never read past their input and return kInvalidInput naming the field. Verification
// returns kRejected when well-formed evidence does not hold.
#pragma once

#include <cstdint>

#include "common/bytes.h"
#include "common/digest.h"
#include "common/ossl.h"
#include "tpm/pcr.h"

namespace cvm::tpm {

inline constexpr uint32_t kTpmGeneratedValue = 0xFF544347;
inline constexpr uint16_t kStAttestQuote = 0x8018;
// Our limit on qualifying data (nonce): the size of the largest digest (TPM2B_DATA holds a
// TPMT_HA).
inline constexpr size_t kMaxNonceSize = 64;

// A parsed TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE.
struct Attest {
  uint32_t magic = 0;
  uint16_t type = 0;
  Bytes qualified_signer;  // TPM2B_NAME contents
  Bytes extra_data;        // the qualifying data (nonce) the caller supplied
  uint64_t clock = 0;
  uint32_t reset_count = 0;
  uint32_t restart_count = 0;
  bool safe = false;
  uint64_t firmware_version = 0;
  PcrSelection pcr_selection;  // banks with an unsupported hash make the parse fail (kUnsupported)
  Bytes pcr_digest;
};

// Parses a marshalled TPMS_ATTEST; the whole input must be consumed. Wrong magic or another
// attestation type is kInvalidInput ("not a TPM quote").
Result<Attest> ParseAttest(ByteSpan data);

enum class SigScheme : uint16_t { kRsaSsa = 0x0014, kRsaPss = 0x0016, kEcdsa = 0x0018 };

// A TPMT_SIGNATURE's contents. For RSA `sig` holds the signature; for ECDSA `r` and `s`.
struct TpmSignature {
  SigScheme scheme = SigScheme::kEcdsa;
  DigestAlg hash = DigestAlg::kSha256;
  Bytes sig;
  Bytes r, s;
};

// Parses a marshalled TPMT_SIGNATURE (the form tpm2_quote writes and tpm2_checkquote reads); the
// whole input must be consumed.
Result<TpmSignature> ParseTpmSignature(ByteSpan data);

// Checks `signature` over `attest` (the marshalled TPMS_ATTEST) with `ak`. kRejected when it does
// not hold, including a key of the wrong type for the scheme.
Status VerifyAttestSignature(const EVP_PKEY* ak, ByteSpan attest, const TpmSignature& signature);

// Full verification of a quote: the AK signature, then the structure, then extraData == `nonce`,
// then that `pcrs` holds no value outside the quoted selection (kRejected: a value the quote does
// not cover proves nothing and is refused, not ignored), then that the PCR digest equals the hash
// (with the signature's hash algorithm) of the values in `pcrs` for the quoted selection. Returns
// the parsed attestation on success; kRejected naming the first failed check; kInvalidInput for
// malformed bytes or missing PCR values.
Result<Attest> VerifyQuote(const EVP_PKEY* ak, ByteSpan attest, const TpmSignature& signature,
                           ByteSpan nonce, const PcrValues& pcrs);
// VerifyQuote without the nonce check, for a caller that has no expected nonce (e.g. showing
// someone else's evidence). The caller must then compare Attest::extra_data itself before it
// trusts the quote to be fresh.
Result<Attest> VerifyQuoteIgnoringNonce(const EVP_PKEY* ak, ByteSpan attest,
                                        const TpmSignature& signature, const PcrValues& pcrs);

}  // namespace cvm::tpm
