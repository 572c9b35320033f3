// The evidence bundle: everything a relying party needs to appraise one confidential VM at one
// moment, as one versioned JSON document (docs/evidence.md has it field by field), and the one
// entry point that verifies it. Every front door (cvmctl verify, cvm-rp, the agent's self-check)
// calls VerifyBundle, so no check can be skipped by choosing another door.
//
// Binding rule (the same as the Trustee KBS protocol, kbs.h / kbs-protocol.md section b):
//   runtime_data  = a JSON object; for the KBS exchange exactly
//                   {"additional-evidence": <string>, "nonce": <string>, "tee-pubkey": <JWK>}
//                   and for the agent's local evidence API {"nonce": <caller nonce string>, ...}
//   digest        = H(JCS(runtime_data)), H = runtime_data_hash (sha384 unless negotiated)
//   SNP/TDX       : REPORT_DATA = digest zero-padded to 64 bytes
//   Azure vTPM    : the TPM quote's qualifying data = digest; the HCL report binds the AK
//   vTPM next to bare SNP/TDX: the TPM evidence travels inside "additional-evidence"
//                   ({"tpm": {...}}), so REPORT_DATA covers the AK; the quote's qualifying data
//                   = H(JCS(runtime_data without "additional-evidence")) zero-padded to 64
//                   bytes (Trustee's tpm verifier pads the expected report data to 64 bytes).
//   GPUs          : NVIDIA GPU evidence travels inside "additional-evidence" as
//                   {"nvidia": {"device_evidence_list": [...]}} (gpu/evidence_json.h), next to
//                   "tpm" when both are present, so REPORT_DATA covers it; each GPU's SPDM nonce
//                   = the first 32 bytes of H(JCS(runtime_data without "additional-evidence"))
//                   (Trustee's and guest-components' rule, gpu-evidence.md section 4).
//   raw mode      : REPORT_DATA = 64 caller bytes (report_data_raw), no runtime_data; for the
//                   Azure kinds report_data_raw is the TPM quote's qualifying data (1..64 bytes).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/digest.h"
#include "common/http.h"
#include "common/status.h"
#include "common/x509.h"
#include "evidence/kbs.h"
#include "gpu/verify.h"

namespace cvm {
class ChainCache;  // common/chain_cache.h
}  // namespace cvm

namespace cvm::evidence {

inline constexpr int kBundleVersion = 1;

// vTPM evidence: the AK, one TPM2_Quote, the PCR values it covers, the measured-boot event log.
struct TpmEvidence {
  Bytes ak_public;       // DER SubjectPublicKeyInfo of the AK (Azure kinds: empty, the AK is
                         // the HCL report's HCLAkPub)
  Bytes ak_public_area;  // marshalled TPM2B_PUBLIC of the AK; empty: not supplied (then the
                         // quote's qualifiedSigner cannot be compared with the AK's name)
  Bytes attest;          // TPMS_ATTEST as signed
  Bytes signature;       // TPMT_SIGNATURE
  std::map<DigestAlg, std::map<uint32_t, Bytes>> pcrs;  // bank -> index -> value
  Bytes event_log;              // TCG PC Client log (binary_bios_measurements); empty: none
  std::vector<Bytes> ak_certs;  // optional AK/EK certificates (DER)
};

struct Bundle {
  int version = kBundleVersion;
  TeeKind tee = TeeKind::kSnp;
  Bytes report;              // SNP report, TDX quote, or the Azure HCL report
  std::vector<Bytes> certs;  // platform-supplied certificates (DER): VCEK/VLEK chain, ...
  std::string collateral;    // TDX PCCS collateral JSON; empty: none supplied
  Bytes td_quote;            // az-tdx-vtpm: the TD quote binding the HCL's TDREPORT
  std::optional<TpmEvidence> tpm;
  Bytes ccel;  // TDX CCEL event log data; empty: none
  // Exactly one of the two is set (see the binding rule above).
  std::optional<nlohmann::json> runtime_data;
  DigestAlg runtime_data_hash = DigestAlg::kSha384;
  std::optional<Bytes> report_data_raw;
  std::optional<InitData> init_data;  // TOML init-data the HOST_DATA/MRCONFIGID commits to
  // Azure kinds: the Trustee evidence shape version (0, 1 or 2) the evidence came in or is to be
  // sent as. Version 2 also binds the digest in the HCL's user-data.
  int azure_evidence_version = 2;
};

nlohmann::ordered_json ToJson(const Bundle& bundle);
// Refuses unknown top-level members, wrong types, bad base64/hex, sizes over the limits in
// docs/evidence.md (kInvalidInput naming the member), and unknown versions (kUnsupported).
Result<Bundle> ParseBundle(std::string_view json);
// True when `text` looks like a bundle (a JSON object with "cvm-evidence-bundle" version key).
bool LooksLikeBundle(std::string_view text);

// One GPU of the bundle as VerifyBundle appraised it (meaningful when the bundle verified).
struct GpuClaims {
  std::string arch;  // "HOPPER", "BLACKWELL"
  std::string uuid;  // as the collector declared it (informational)
  std::string driver_version;
  std::string vbios_version;  // "96.00.9F.00.01"
  // "SPT", "MPT", "PPCIE" (the report's FEATURE_FLAG); "" when the report does not state it
  // (opaque data version 0, drivers before R575).
  std::string cc_mode;
  std::string hwmodel;  // CN of the certificate above the leaf
  std::string ueid;     // the leaf's serial in decimal
  std::string fwid;     // hex; empty when the report carries none
  // gpu::MeasurementStatusName: "match", "partial", "not checked", "mismatch".
  std::string measurements;
  std::vector<unsigned> mismatched_indices;      // RIM indices
  std::map<unsigned, Bytes> measurement_values;  // SPDM block index -> value (non-zero ones)
  std::string driver_rim, vbios_rim;             // RIMs used; empty: none
};

// What a relying-party policy is written against. Fields that the TEE does not have are empty.
struct Claims {
  TeeKind tee = TeeKind::kSnp;
  bool debug = false;
  std::string product;       // SNP: Milan/Genoa/Turin; TDX: "TDX"
  Bytes measurement;         // SNP MEASUREMENT (48) / TDX MRTD (48)
  std::vector<Bytes> rtmrs;  // TDX RTMR0..3
  Bytes host_data;           // SNP HOST_DATA (32) / TDX MRCONFIGID (48)
  Bytes chip_id;      // SNP CHIP_ID (64; zeros when the platform masks it); empty for other TEEs
  Bytes report_data;  // 64 bytes
  std::map<std::string, uint64_t> tcb;  // SNP: bootloader/tee/snp/microcode(/fmc) of REPORTED_TCB;
                                        // TDX: empty (tcb_status says)
  std::optional<std::string> tcb_status;  // TDX DCAP TCB status ("UpToDate", ...)
  std::vector<std::string> advisories;    // TDX advisory IDs
  uint64_t policy = 0;                    // SNP guest policy
  uint32_t guest_svn = 0;
  Bytes id_key_digest, author_key_digest;               // SNP
  Bytes mrowner, mrownerconfig, mrseam;                 // TDX
  std::map<DigestAlg, std::map<uint32_t, Bytes>> pcrs;  // quoted PCRs (verified)
  std::optional<nlohmann::json> runtime_data;
  std::optional<InitData> init_data;
  // The init-data's [data] table (name -> text), once its binding verified (init_data.h).
  std::optional<nlohmann::json> init_data_claims;
  bool simulated_root = false;  // the chain ended in a configured simulated root
  // The GPUs in the runtime data's additional evidence, in list order (gpu0, gpu1, ...); empty:
  // none.
  std::vector<GpuClaims> gpus;
  nlohmann::json ToJson() const;
  // One GPU's claims as they go into its EAR submod and the verdict's "gpus" list.
  static nlohmann::json GpuJson(const GpuClaims& gpu);
};

struct BundleVerifyOptions {
  TimePoint at;  // from a Clock; certificate validity, CRL freshness and evidence age
  // Trust anchors. Empty: the built-in AMD / Intel roots. Simulated roots only when named here.
  std::vector<Certificate> snp_roots;
  std::vector<Certificate> tdx_roots;
  std::vector<Crl> crls;
  // The nonce the verifier issued: runtime_data.nonce must equal it. Empty: not checked
  // (offline inspection only; the verdict then carries a note).
  std::optional<std::string> expected_nonce;
  // The TEE key the verifier will encrypt to: runtime_data["tee-pubkey"] must equal it.
  std::optional<nlohmann::json> expected_tee_pubkey;
  // Raw mode: REPORT_DATA must equal these 64 bytes.
  std::optional<Bytes> expected_report_data;
  // TDX: collateral is required (from the bundle, `collateral`, or fetched through `http`)
  // unless signature_only is set; then the verdict carries a note saying TCB was not evaluated.
  std::string collateral;
  HttpClient* http = nullptr;  // optional: fetch TDX collateral / SNP certificates when missing
  bool tdx_signature_only = false;
  // Safety defaults (fail closed): a debug guest / migration agent is refused unless allowed.
  bool allow_debug = false;
  // Evidence must carry TPM evidence (vTPM kinds always do).
  bool require_tpm = false;
  // SNP VCEK/VLEK and TDX PCK chains that verified before (common/chain_cache.h); a relying
  // party keeps one for its lifetime. nullptr: every chain is verified in full. Not owned.
  ChainCache* chain_cache = nullptr;
  // GPUs: the options every GPU of the "nvidia" additional evidence is verified with
  // (gpu/verify.h). VerifyBundle sets `gpu.at` to `at` and `gpu.nonce` from the runtime data; the
  // RIMs, RIM source, require_rims and (tests only) anchors are the caller's.
  gpu::VerifyOptions gpu;
  // The bundle must carry GPU evidence (a GPU policy is in force): without it, a reason.
  bool require_gpus = false;
};

struct BundleVerdict {
  bool verified = false;
  TeeKind tee = TeeKind::kSnp;
  std::vector<std::string> reasons;       // every reason it is not verified (empty when verified)
  std::vector<std::string> notes;         // what was not checked and why
  Claims claims;                          // meaningful when verified
  nlohmann::ordered_json ToJson() const;  // {"verified","tee","reasons","notes","claims"}
};

// Verifies everything a bundle holds: the hardware evidence (chain, signature, TCB, collateral),
// the safety defaults, the binding of REPORT_DATA to runtime_data (or the raw report data),
// the nonce and TEE key, the TPM quote against the AK that the report binds (signature,
// qualifiedSigner = AK name, PCR digest, only quoted PCRs), the event log replayed against the
// quoted PCRs, the CCEL against the RTMRs, and (az-tdx-vtpm) the TD quote binding the HCL's
// TDREPORT, and every GPU of the "nvidia" additional evidence (gpu::VerifyNvidiaEvidence with
// the nonce the runtime data gives; each GPU's reasons prefixed "gpu<i>: "). Returns a verdict
// listing every reason; a Status error only for an internal failure.
Result<BundleVerdict> VerifyBundle(const Bundle& bundle, const BundleVerifyOptions& options);

}  // namespace cvm::evidence
