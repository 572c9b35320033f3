// The TPM seam: everything cvm-agent asks of a TPM 2.0, behind an interface so callers can be
// tested with a fake and the ESAPI implementation can be pointed at a simulator.
//
// Handles: every transient object an implementation loads or creates is flushed before the call
// returns, on success and on failure, so a TPM without a resource manager (plain swtpm, or
// /dev/tpm0) never fills up. Implementations are not thread-safe; use one Tpm per thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/ossl.h"
#include "tpm/pcr.h"

namespace cvm::tpm {

// The default TCTI: the kernel's resource manager.
inline constexpr const char* kDefaultTcti = "device:/dev/tpmrm0";

// Well-known handles and NV indices.
inline constexpr uint32_t kAzureAkHandle = 0x81000003;  // Azure vTPM's persistent AK
inline constexpr uint32_t kEkCertNvRsa = 0x01c00002;    // TCG EK Credential Profile
inline constexpr uint32_t kEkCertNvEcc = 0x01c0000a;
inline constexpr uint32_t kGcpAkCertNvRsa = 0x01c10000;  // GCP Shielded VM AK certificates
inline constexpr uint32_t kGcpAkCertNvEcc = 0x01c10002;

enum class AkAlg { kEcP256, kRsa2048 };

// Which AK to use. Empty `persistent_handle`: create a restricted signing key as a primary key
// of the endorsement hierarchy (empty endorsement auth) from the standard AK template for `alg`
// (fixedTPM, fixedParent, sensitiveDataOrigin, userWithAuth, restricted, sign; ECDSA-SHA256 on
// P-256 by default, RSASSA-SHA256 with RSA-2048; as go-tpm-tools' AKTemplateECC/RSA). The
// template is fixed, so the same TPM yields the same AK every time.
struct AkOptions {
  std::optional<uint32_t> persistent_handle;  // e.g. kAzureAkHandle; empty: create (default)
  AkAlg alg = AkAlg::kEcP256;                 // ignored for a persistent AK
};

struct AkPublic {
  Bytes public_area;  // marshalled TPM2B_PUBLIC
  Bytes name;         // TPM2B_NAME contents: nameAlg || H(TPMT_PUBLIC)
  ossl::PKey key;     // the public key
};

struct Quote {
  Bytes attest;     // marshalled TPMS_ATTEST, as the TPM returned it
  Bytes signature;  // marshalled TPMT_SIGNATURE
  PcrValues pcrs;   // the quoted PCRs, read in the same selection (the digest is checked)
  AkPublic ak;
};

class Tpm {
 public:
  virtual ~Tpm() = default;

  // The values of the selected PCRs. kNotFound when a bank is not allocated.
  virtual Result<PcrValues> ReadPcrs(const PcrSelection& selection) = 0;
  // Extends PCR `index` (0..23) in each bank given: PCR = H(PCR || digest). Each digest must
  // have its bank's size. For run-time measurements (and tests).
  virtual Status ExtendPcr(uint32_t index, const std::map<DigestAlg, Bytes>& digests) = 0;
  // The public part of the AK described by `options`.
  virtual Result<AkPublic> ReadAk(const AkOptions& options) = 0;
  // TPM2_Quote over `selection` with `nonce` (at most kMaxNonceSize bytes) as qualifying data,
  // and the PCR values in that selection. The PCRs are read after the quote; if an extend came
  // in between (the digest does not match) the quote is retried a few times.
  virtual Result<Quote> MakeQuote(const AkOptions& options, ByteSpan nonce,
                                  const PcrSelection& selection) = 0;
  // The contents of an NV index (read in chunks). kNotFound when it is not defined.
  virtual Result<Bytes> NvRead(uint32_t index) = 0;
  // Writes `data` at offset 0 of an NV index, defining it (owner auth, owner read/write,
  // `data.size()` bytes) when it does not exist.
  virtual Status NvWrite(uint32_t index, ByteSpan data) = 0;
  // The number of transient objects loaded in the TPM (TPM2_GetCapability TPM_CAP_HANDLES).
  virtual Result<size_t> TransientObjectCount() = 0;
};

// Opens a TPM through a TCTI configuration string (tss2-tctildr syntax, e.g. kDefaultTcti,
// "swtpm:host=127.0.0.1,port=2321"). kUnavailable when the TPM cannot be reached.
// Side effect: sets TSS2_LOG=all+none in the environment when it is unset, so tpm2-tss does not
// print errors that our statuses already carry (decoded).
Result<std::unique_ptr<Tpm>> OpenTpm(const std::string& tcti = kDefaultTcti);

// Reads a certificate from an NV index (DER, trailing zero padding removed). kNotFound when the
// platform does not provide it.
Result<Bytes> ReadNvCertificate(Tpm& tpm, uint32_t index);

}  // namespace cvm::tpm
