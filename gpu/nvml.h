// Collecting GPU evidence inside the guest. The device sits behind GpuProvider, the seam at the
// NVML level: production loads NVIDIA's libnvidia-ml.so.1 at run time (no build dependency on
// NVIDIA's packages), tests use FakeGpuProvider (canned reports) or sim.h (reports signed for
// any nonce).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "gpu/verify.h"

namespace cvm::gpu {

// nvmlSystemGetConfComputeState / GetConfComputeSettings.
struct CcState {
  bool cc_enabled = false;           // ccFeature == NVML_CC_SYSTEM_FEATURE_ENABLED
  bool dev_tools_mode = false;       // devToolsMode: debugging allowed, not a production CVM
  bool multi_gpu_protected = false;  // multiGpuMode == protected PCIe (PPCIE)
};

struct GpuInfo {
  Architecture arch = Architecture::kUnknown;
  std::string uuid;
  std::string vbios_version;
};

// One NVML session. Methods are not thread-safe. Errors: kUnavailable when NVML or the device
// does not answer (message decoded with nvmlErrorString), kNotFound for a bad index.
class GpuProvider {
 public:
  virtual ~GpuProvider() = default;
  virtual Result<CcState> State() = 0;
  virtual Result<std::string> DriverVersion() = 0;
  virtual Result<unsigned> Count() = 0;
  virtual Result<GpuInfo> Info(unsigned index) = 0;
  // nvmlDeviceGetConfComputeGpuAttestationReport for a 32-byte nonce: the raw report.
  virtual Result<Bytes> Report(unsigned index, ByteSpan nonce) = 0;
  // nvmlDeviceGetConfComputeGpuCertificate: attestationCertChain, PEM, leaf first.
  virtual Result<std::string> CertChain(unsigned index) = 0;
  // nvmlSystemSetConfComputeGpusReadyState / Get...: whether the GPUs accept work.
  virtual Status SetReady(bool ready) = 0;
  virtual Result<bool> Ready() = 0;
};

// Loads libnvidia-ml.so.1 (or `library` when not empty) and initialises NVML. kUnavailable with
// a message saying so when the library is not installed (a VM without NVIDIA's driver).
Result<std::unique_ptr<GpuProvider>> OpenNvml(const std::string& library = "");

// A provider serving canned evidence (e.g. the real sample reports), for tests and demos.
struct FakeGpu {
  GpuInfo info;
  Bytes report;           // returned for any nonce
  std::string chain_pem;  // leaf first
};
class FakeGpuProvider final : public GpuProvider {
 public:
  explicit FakeGpuProvider(std::vector<FakeGpu> gpus, CcState state = {true, false, false},
                           std::string driver = "550.90.07")
      : gpus_(std::move(gpus)), state_(state), driver_(std::move(driver)) {}
  Result<CcState> State() override { return state_; }
  Result<std::string> DriverVersion() override { return driver_; }
  Result<unsigned> Count() override { return static_cast<unsigned>(gpus_.size()); }
  Result<GpuInfo> Info(unsigned index) override;
  Result<Bytes> Report(unsigned index, ByteSpan nonce) override;
  Result<std::string> CertChain(unsigned index) override;
  Status SetReady(bool ready) override;
  Result<bool> Ready() override { return ready_; }

  // The nonces the caller asked reports for, in order.
  const std::vector<Bytes>& nonces() const { return nonces_; }
  // Makes the next Report call fail with `s` (fault injection).
  void FailNextReport(Status s) { fail_next_ = std::move(s); }

 private:
  std::vector<FakeGpu> gpus_;
  CcState state_;
  std::string driver_;
  bool ready_ = false;
  std::vector<Bytes> nonces_;
  Status fail_next_;
};

// Collects every GPU's evidence for `nonce` (32 bytes). kUnavailable with a clear message when
// there is no GPU ("no NVIDIA GPU in this VM") or confidential computing is off; kRejected when
// the GPUs are in developer-tools mode (not a production confidential VM).
Result<std::vector<GpuEvidence>> CollectEvidence(GpuProvider& provider, ByteSpan nonce);

// After the relying party (or local policy) accepted the evidence: lets the GPUs accept work.
Status MarkGpusReady(GpuProvider& provider);

}  // namespace cvm::gpu
