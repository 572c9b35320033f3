// Verification of NVIDIA confidential-computing GPU evidence (Hopper, Blackwell): is the report
// genuine (certificate chain to NVIDIA's pinned device identity root, signature, FWID binding),
// fresh (request nonce) and, when RIMs are given, running the firmware NVIDIA published
// (golden measurements). Every check runs and every failure is reported, so an operator sees all
// reasons at once.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/x509.h"
#include "gpu/ocsp.h"
#include "gpu/report.h"
#include "gpu/rim.h"

namespace cvm::gpu {

enum class Architecture { kUnknown, kHopper, kBlackwell };

// "HOPPER", "BLACKWELL" (as in Trustee's and NVIDIA's evidence JSON), "UNKNOWN".
std::string_view ArchitectureName(Architecture a);
// Case-insensitive "HOPPER" / "BLACKWELL"; kUnsupported for other devices (e.g. "LS10" switches),
// kInvalidInput for anything else.
Result<Architecture> ParseArchitecture(std::string_view name);

// One GPU's evidence as a collector produced it.
struct GpuEvidence {
  // What the collector declared; kUnknown: taken from the certificate chain.
  Architecture arch = Architecture::kUnknown;
  std::string uuid;                // informational, may be empty
  Bytes report;                    // the raw attestation report
  std::vector<Certificate> chain;  // leaf first, as NVML returns it
};

// The FWID in the leaf certificate: Hopper's extension 2.23.133.5.4.1 (SEQUENCE { INTEGER, SPKI,
// SEQUENCE { sha384 OID, OCTET STRING } }) or Blackwell's DICE TcbInfo 2.23.133.5.4.1.1 (fwids[0]).
// Both are read as the first SEQUENCE { OID sha384, OCTET STRING(48) } in the extension, in DER
// order, using OpenSSL's DER decoder. kNotFound when the certificate has neither extension,
// kInvalidInput when it does but holds no SHA-384 FWID.
Result<Bytes> LeafFwid(const Certificate& leaf);

// The 32-byte GPU nonce from what a caller has: 32 bytes as is; a 48- or 64-byte runtime-data
// hash truncated to its first 32 bytes, as Trustee and guest-components do (KBS protocol). Other
// sizes: kInvalidInput.
Result<Bytes> GpuNonce(ByteSpan nonce_or_hash);

struct VerifyOptions {
  // REQUIRED: when certificate validity periods are evaluated, taken from a Clock
  // (common/clock.h); no default (the epoch is refused). NVIDIA's GPU certificates end in 9999;
  // the RIM signers expire within two years.
  TimePoint at{};
  // The expected nonce (32 bytes, see GpuNonce). nullopt: not checked, and the verdict says so
  // (nonce_checked = false); evidence-list verification requires it.
  std::optional<Bytes> nonce;
  // RIMs (raw XML) to compare measurements with; each is verified and then used for every GPU
  // whose driver or VBIOS version equals its colloquialVersion. A given RIM that fails
  // verification is a rejection reason for every GPU.
  std::vector<Bytes> rims;
  // Where to find RIMs by id when `rims` holds none for a GPU (a cache directory or NVIDIA's
  // service). nullptr: only `rims`. Must outlive the call.
  const RimSource* rim_source = nullptr;
  // Require both the driver and the VBIOS RIM for every GPU (a missing one is a rejection
  // reason). Off: a missing RIM is a warning and `measurements` says "partial" or "not checked".
  bool require_rims = false;
  // OCSP for the chains' intermediates (ocsp.h: online only, cached); its `at` is this `at`
  // and its empty anchors mean device_anchors. nullptr: not checked (the verdict says
  // ocsp_checked = false). A responder that cannot be reached is a rejection reason: whoever
  // asks for OCSP gets it or no verdict that passes. Must outlive the call.
  const OcspOptions* ocsp = nullptr;
  // Trust anchors for GPU chains; empty: the built-in NVIDIA device identity root. Tests only.
  std::vector<Certificate> device_anchors;
  // Trust anchors for RIM signers; empty: the built-in NVIDIA RIM root. Tests only.
  std::vector<Certificate> rim_anchors;
};

enum class MeasurementStatus {
  kNotChecked,  // no RIM found
  kPartial,     // one of the two RIMs found, and everything it lists matches
  kMatch,       // both RIMs found and every active golden value matches
  kMismatch,    // at least one active golden value differs (see mismatched_indices)
};
std::string_view MeasurementStatusName(MeasurementStatus s);  // "not checked", "partial", ...

struct GpuVerdict {
  Architecture arch = Architecture::kUnknown;
  std::string uuid;
  bool verified = false;
  std::vector<std::string> reasons;   // every reason it is not verified (empty when verified)
  std::vector<std::string> warnings;  // checks that could not run, e.g. no FWID in old reports
  // Claims (from the report and the chain; meaningful only when verified).
  std::optional<AttestationReport> report;
  std::string hwmodel;  // CN of the certificate above the leaf, e.g. "GH100 A01 GSP BROM"
  std::string ueid;     // the leaf's serial number in decimal
  std::string fwid;     // hex; empty when the report has none
  bool nonce_checked = false;
  bool fwid_checked = false;
  bool ocsp_checked = false;  // every intermediate's OCSP status was good
  MeasurementStatus measurements = MeasurementStatus::kNotChecked;
  std::vector<unsigned> mismatched_indices;  // RIM indices (SPDM block index - 1)
  std::string driver_rim;                    // id or version of the RIM used; empty: none
  std::string vbios_rim;
};

// Verifies one GPU. The steps, each adding a reason on failure: the report parses (otherwise the
// result is kInvalidInput: the input is unusable); the chain has at least the leaf and one issuer
// and verifies to the pinned root at `at`; the declared architecture matches the chain's; the
// leaf's FWID extension exists and equals the report's FWID (a report without FWID, from drivers
// before R550, is a warning); the report signature verifies with the leaf key; the request nonce
// equals options.nonce (constant time); with RIMs, every active golden value matches its block
// (index 35, NVDEC0, skipped when NVDEC0 is disabled) and no index is active in both RIMs.
// kInvalidInput only for unusable input (no chain, unparsable report, bad option); a
// well-formed but untrustworthy report gives a verdict with verified = false.
Result<GpuVerdict> VerifyGpu(const GpuEvidence& evidence, const VerifyOptions& options);

// Compares measurements with verified RIMs (either may be null; a missing RIM is the caller's to
// report). Fills measurements, mismatched_indices, driver_rim / vbios_rim and adds one reason per
// mismatching index to `verdict`.
void CompareMeasurements(const AttestationReport& report, const Rim* driver, const Rim* vbios,
                         GpuVerdict* verdict);

struct EvidenceVerdict {
  std::vector<GpuVerdict> gpus;
  bool verified = false;             // every GPU verified and the list-level checks passed
  std::vector<std::string> reasons;  // list-level reasons (no GPUs, SPT/MPT mix)
};

// Verifies every GPU of an evidence list with the same options (options.nonce is required:
// kInvalidInput without it) and then the list as a whole: at least one GPU, and not a mix of
// single-GPU (SPT) and multi-GPU (MPT) modes.
Result<EvidenceVerdict> VerifyEvidenceList(std::span<const GpuEvidence> gpus,
                                           const VerifyOptions& options);

}  // namespace cvm::gpu
