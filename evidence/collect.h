// Collecting evidence inside a confidential VM: one Collect() that asks the platform's report,
// quote and TPM providers for everything a bundle holds, bound to the caller's runtime data by
// the rule in bundle.h. The providers and network clients are injected (CollectPlatform), so the
// agent daemon passes real devices and tests pass fakes and simulators.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/digest.h"
#include "common/http.h"
#include "common/status.h"
#include "evidence/bundle.h"
#include "gpu/nvml.h"
#include "snp/provider.h"
#include "snp/sim.h"
#include "tdx/provider.h"
#include "tdx/sim.h"
#include "tpm/hcl.h"
#include "tpm/tpm.h"

namespace cvm::evidence {

// What to collect: the four TEE kinds, or a simulator producing real-format evidence from a
// state directory (sim-snp: snp/sim.h, sim-tdx: tdx/sim.h; bundles of kind snp / tdx whose
// chains end in the simulated roots).
enum class CollectKind { kSnp, kTdx, kAzSnpVtpm, kAzTdxVtpm, kSimSnp, kSimTdx };
// "snp", "tdx", "az-snp-vtpm", "az-tdx-vtpm", "sim-snp", "sim-tdx"; kInvalidInput otherwise.
Result<CollectKind> ParseCollectKind(std::string_view name);

// Whether NVIDIA GPU evidence joins the bundle (the "nvidia" additional evidence, bundle.h):
// off; auto: when NVML answers with GPUs in confidential-computing mode, otherwise the CPU
// evidence alone and a note saying why; required: no bundle without every GPU's evidence.
enum class GpuMode { kOff, kAuto, kRequired };
// "off", "auto", "required"; kInvalidInput otherwise.
Result<GpuMode> ParseGpuMode(std::string_view name);
std::string_view GpuModeName(GpuMode mode);

struct CollectRequest {
  CollectKind kind = CollectKind::kSnp;
  // Runtime-data mode: runtime_data = {"additional-evidence", "nonce", "tee-pubkey"} hashed
  // with `hash`. Set `nonce` (any string; the KBS challenge's nonce as received) ...
  std::optional<std::string> nonce;
  nlohmann::json tee_pubkey = nullptr;  // the TEE's JWK (kbs.h members only) or null
  DigestAlg hash = DigestAlg::kSha384;
  // ... or raw mode: REPORT_DATA (Azure: the TPM quote's nonce and HCL user data) exactly these
  // bytes (64; Azure 1..64). Exactly one of `nonce` and `report_data_raw` must be set.
  std::optional<Bytes> report_data_raw;
  // The vTPM next to bare SNP/TDX (the Azure kinds always include theirs): a quote over
  // sha256:0-23 with `ak` (Trustee's tpm evidence carries exactly those 24 PCRs, so no other
  // selection can travel), carried in the runtime data's additional-evidence as {"tpm": ...}.
  // Needs runtime-data mode and platform.tpm.
  bool include_tpm = false;
  tpm::AkOptions ak;
  // The measured-boot event log to attach to the TPM part; empty: none.
  std::string event_log_path;
  // Init-data (init_data.h) the host launched this VM with, sent with the evidence. Collect
  // checks that the report commits to it (HOST_DATA, MRCONFIGID, Azure PCR 8) and fails with
  // kRejected naming both values when not: a relying party would refuse it. The simulated kinds
  // launch with it (HOST_DATA / MRCONFIGID = its digest).
  std::optional<InitData> init_data;
  // SNP: the VMPL to request the report at.
  uint32_t vmpl = 0;
  // Simulated kinds: the simulator's state directory, and (sim-snp) the launch values.
  std::string sim_dir;
  std::optional<snp::SimReportRequest> sim_snp_launch;  // empty: zeros, policy 0x30000
  std::optional<Bytes> sim_tdx_mrtd;  // 48 bytes; empty: the simulator's default MRTD
  // GPUs (runtime-data mode only): each GPU's report for the first 32 bytes of
  // H(JCS({"nonce", "tee-pubkey"})) and its chain, through platform.gpu.
  GpuMode gpus = GpuMode::kOff;
};

// Where a Collect call's time went (the agent's phase timings). Collect adds to these.
struct CollectTimings {
  // The TEE's report or quote: the firmware, the simulator, or (Azure) the HCL report, the vTPM
  // quote and IMDS.
  std::chrono::microseconds tee{0};
  // The vTPM quote next to bare SNP/TDX (with reading the event log).
  std::chrono::microseconds tpm{0};
  // The GPUs' reports and chains (NVML).
  std::chrono::microseconds gpu{0};
};

// The platform's providers. Pointers may be null when the platform lacks the device; a kind that
// needs a missing one fails with kUnavailable naming it. All must outlive the call.
struct CollectPlatform {
  snp::ReportProvider* snp = nullptr;
  tdx::QuoteProvider* tdx = nullptr;
  tpm::Tpm* tpm = nullptr;
  // Azure IMDS (http://169.254.169.254): the TD quote for az-tdx-vtpm and the VCEK (THIM) for
  // az-snp-vtpm. IMDS answers only from inside the VM: this client must not use a proxy.
  HttpClient* imds = nullptr;
  // The ACPI tables directory holding CCEL and data/CCEL (TDX); empty: no CCEL collected.
  std::string acpi_dir;
  // How long to wait for the Azure HCL report to pick up the user data.
  tpm::HclFetchOptions hcl;
  // The time, for simulated collateral.
  const Clock* clock = nullptr;  // nullptr: the system clock
  // Simulated kinds: the simulator already loaded from the request's sim_dir (its keys in memory,
  // as firmware holds them). nullptr: loaded from sim_dir on every call (parsing two RSA-4096
  // private keys each time).
  const snp::SimSnp* sim_snp = nullptr;
  const tdx::SimTdx* sim_tdx = nullptr;
  // Where the time went; nullptr: not measured.
  CollectTimings* timings = nullptr;
  // NVML (gpu/nvml.h: OpenNvml in production, a fake or simulated provider in tests); nullptr:
  // no NVIDIA driver in this VM.
  gpu::GpuProvider* gpu = nullptr;
  // What was left out and why (GpuMode::kAuto without usable GPUs); nullptr: not reported.
  std::vector<std::string>* notes = nullptr;
};

inline constexpr char kImdsTdQuoteUrl[] = "http://169.254.169.254/acc/tdquote";
inline constexpr char kImdsThimUrl[] = "http://169.254.169.254/metadata/THIM/amd/certification";

// Collects a bundle. Errors: kInvalidInput for an inconsistent request (GPUs required in raw
// mode); GpuMode::kRequired without usable GPUs: kUnavailable saying why; the provider's status
// (kUnavailable, kNotFound, ...) with context naming the step otherwise. Nothing is verified
// here: VerifyBundle is the verifier's job.
Result<Bundle> Collect(const CollectRequest& request, CollectPlatform& platform);

}  // namespace cvm::evidence
