// The production evidence side of the daemon: the TEE's providers, opened once for the detected
// platform (EvidenceCollector), and the local evidence API's source over evidence::Collect
// (NewCollectEvidenceSource). The relying-party attester (kbs_attester.h) collects through the
// same EvidenceCollector, so the hardware is asked by one owner only.
#pragma once

#include <memory>

#include "agent/attester.h"
#include "agent/config.h"
#include "agent/platform.h"
#include "common/http.h"
#include "common/status.h"

namespace cvm::evidence {
struct Bundle;
struct CollectRequest;
struct CollectTimings;
}  // namespace cvm::evidence

namespace cvm::gpu {
class GpuProvider;
}  // namespace cvm::gpu

namespace cvm::agent {

class EvidenceCollector {
 public:
  // Opens what `platform` needs: sim-snp / sim-tdx load the configured state directory (so a
  // missing or broken one is found at start), snp / tdx open the report/quote provider
  // (configfs-tsm first), the Azure kinds and `tpm.enabled` open the TPM at tpm.tcti, the Azure
  // kinds an IMDS client that never uses a proxy (see the overload with `http`). kUnavailable
  // naming what could not be opened. GPUs (config.gpu): unless off, NVML is loaded (gpu::OpenNvml)
  // or `nvml` is used when given (tests: a fake or simulated provider); without NVML, `required`
  // fails the start (kUnavailable) and `auto` logs that the CPU evidence goes alone.
  static Result<std::shared_ptr<EvidenceCollector>> Open(const Config& config,
                                                         const Platform& platform);
  static Result<std::shared_ptr<EvidenceCollector>> Open(const Config& config,
                                                         const Platform& platform,
                                                         std::unique_ptr<gpu::GpuProvider> nvml);
  // `http` makes the IMDS client, one per collection; the Azure kinds need it (kInvalidInput
  // without). The daemon's sends through its HTTP helper process (common/http_helper.h).
  static Result<std::shared_ptr<EvidenceCollector>> Open(const Config& config,
                                                         const Platform& platform,
                                                         HttpClientFactory http);
  ~EvidenceCollector();
  EvidenceCollector(const EvidenceCollector&) = delete;
  EvidenceCollector& operator=(const EvidenceCollector&) = delete;

  // Collects a bundle for `request`'s binding (nonce + TEE key + hash, or raw report data); the
  // kind, the simulator directory and the TPM settings are filled in from the configuration
  // (the TPM is added only in runtime-data mode: raw report data cannot bind it). Serialised:
  // one hardware request at a time. Errors as evidence::Collect.
  // `timings` (optional) is added to: where the time went (evidence::CollectTimings).
  Result<evidence::Bundle> Collect(evidence::CollectRequest request,
                                   evidence::CollectTimings* timings = nullptr);

  // After the relying party accepted evidence carrying GPU evidence: lets the GPUs accept work
  // (nvmlSystemSetConfComputeGpusReadyState). Ok without doing anything when the last bundle
  // carried no GPU evidence. NVML's error otherwise (the GPUs then stay not ready).
  Status MarkGpusReady();
  // Whether the last bundle carried GPU evidence.
  bool gpus_collected() const;

  // The Trustee TEE kind the relying party is told (sim kinds produce real snp/tdx evidence).
  TeeKind kind() const;

 private:
  struct Impl;
  explicit EvidenceCollector(std::unique_ptr<Impl> impl);
  static Result<std::shared_ptr<EvidenceCollector>> OpenWith(const Config& config,
                                                             const Platform& platform,
                                                             std::unique_ptr<gpu::GpuProvider> nvml,
                                                             HttpClientFactory http);
  std::unique_ptr<Impl> impl_;
};

// The local API's EvidenceSource: runtime-data requests {"nonce": N} become a bundle whose
// runtime_data is {"additional-evidence": "" (or the vTPM evidence), "nonce": N, "tee-pubkey":
// null} bound by the bundle rule (bundle.h); raw requests put exactly the 64 caller bytes in
// REPORT_DATA. Returns the bundle's JSON text (evidence::ToJson). kInvalidInput for runtime data
// with members other than a string "nonce". Thread-safe (the collector serialises).
std::unique_ptr<EvidenceSource> NewCollectEvidenceSource(
    std::shared_ptr<EvidenceCollector> collector);

}  // namespace cvm::agent
