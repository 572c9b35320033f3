// A simulated NVIDIA GPU that signs for real: its own device identity root, a five-certificate
// chain shaped like NVIDIA's (root, identity, provisioner, BROM, FMC leaf with the FWID
// extension of its architecture), and SPDM reports built and signed for any nonce. For tests,
// demos and the fake NVML provider; verification must be given sim.root() as the device anchor,
// so nothing it signs passes with the built-in NVIDIA root.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/keys.h"
#include "common/x509.h"
#include "gpu/nvml.h"
#include "gpu/verify.h"

namespace cvm::gpu {

struct SimGpuOptions {
  Architecture arch = Architecture::kHopper;
  std::string driver_version = "550.90.07";
  // VBIOS bytes b0..b7 as in the report (printed b3.b2.b1.b0.b4): 96.00.9F.00.01.
  Bytes vbios = {0x00, 0x9f, 0x00, 0x96, 0x01, 0x00, 0x00, 0x00};
  bool include_fwid = true;                  // old drivers' reports carry none
  std::optional<uint32_t> feature_flag = 0;  // with opaque version 1; nullopt: neither
  uint8_t nvdec0_status = kNvdecEnabled;
  unsigned blocks = 64;
  // A distinct serial/identity per simulated GPU.
  uint64_t serial = 1;
  TimePoint not_before = std::chrono::system_clock::now() - std::chrono::hours(24);
};

class SimGpu {
 public:
  static Result<SimGpu> Create(const SimGpuOptions& options);

  // A signed report for the 32-byte nonce.
  Result<Bytes> Report(ByteSpan nonce) const;
  // The value of measurement block `index` (1-based) in every report.
  Bytes Measurement(unsigned index) const;
  Bytes Fwid() const;

  const Certificate& root() const { return chain_.back(); }
  const std::vector<Certificate>& chain() const { return chain_; }  // leaf first
  std::string ChainPem() const;
  const SimGpuOptions& options() const { return options_; }
  GpuEvidence Evidence(ByteSpan nonce) const;  // REQUIRES: Report(nonce) succeeds

 private:
  SimGpuOptions options_;
  std::vector<Certificate> chain_;
  std::shared_ptr<EVP_PKEY> leaf_key_;
};

// An NVML provider over simulated GPUs: like a real NVML, each report is made for the nonce asked
// (FakeGpuProvider serves canned reports instead). The driver version is the first GPU's.
class SimGpuProvider final : public GpuProvider {
 public:
  explicit SimGpuProvider(std::vector<SimGpu> gpus, CcState state = {true, false, false})
      : gpus_(std::move(gpus)), state_(state) {}
  Result<CcState> State() override { return state_; }
  Result<std::string> DriverVersion() override;
  Result<unsigned> Count() override { return static_cast<unsigned>(gpus_.size()); }
  Result<GpuInfo> Info(unsigned index) override;
  Result<Bytes> Report(unsigned index, ByteSpan nonce) override;
  Result<std::string> CertChain(unsigned index) override;
  Status SetReady(bool ready) override;
  Result<bool> Ready() override { return ready_; }

 private:
  std::vector<SimGpu> gpus_;
  CcState state_;
  bool ready_ = false;
};

}  // namespace cvm::gpu
