#include "gpu/nvml.h"

#include "common/x509.h"

namespace cvm::gpu {

Result<GpuInfo> FakeGpuProvider::Info(unsigned index) {
  if (index >= gpus_.size()) return NotFound("fake gpu " + std::to_string(index));
  return gpus_[index].info;
}

Result<Bytes> FakeGpuProvider::Report(unsigned index, ByteSpan nonce) {
  if (index >= gpus_.size()) return NotFound("fake gpu " + std::to_string(index));
  nonces_.push_back(ToBytes(nonce));
  if (!fail_next_.ok()) {
    Status s = std::move(fail_next_);
    fail_next_ = Status::Ok();
    return s;
  }
  return gpus_[index].report;
}

Result<std::string> FakeGpuProvider::CertChain(unsigned index) {
  if (index >= gpus_.size()) return NotFound("fake gpu " + std::to_string(index));
  return gpus_[index].chain_pem;
}

Status FakeGpuProvider::SetReady(bool ready) {
  ready_ = ready;
  return Status::Ok();
}

Result<std::vector<GpuEvidence>> CollectEvidence(GpuProvider& p, ByteSpan nonce) {
  if (nonce.size() != kNonceSize) {
    return InvalidInput("gpu nonce must be 32 bytes, got " + std::to_string(nonce.size()));
  }
  CVM_ASSIGN_OR_RETURN(unsigned count, p.Count());
  if (count == 0) return Unavailable("no NVIDIA GPU in this VM");
  CVM_ASSIGN_OR_RETURN(CcState state, p.State());
  if (!state.cc_enabled) {
    return Unavailable("the GPUs are not in confidential-computing mode (CC mode off)");
  }
  if (state.dev_tools_mode) {
    return Rejected("the GPUs are in confidential-computing developer-tools mode");
  }
  std::vector<GpuEvidence> out;
  for (unsigned i = 0; i < count; ++i) {
    std::string where = "gpu " + std::to_string(i);
    auto info = p.Info(i);
    if (!info.ok()) return info.status().WithContext(where);
    auto report = p.Report(i, nonce);
    if (!report.ok()) return report.status().WithContext(where + ": attestation report");
    auto pem = p.CertChain(i);
    if (!pem.ok()) return pem.status().WithContext(where + ": certificate chain");
    auto chain = ParseCertificates(AsBytes(*pem));
    if (!chain.ok()) return chain.status().WithContext(where + ": certificate chain");
    GpuEvidence e;
    e.arch = info->arch;
    e.uuid = info->uuid;
    e.report = std::move(report).value();
    e.chain = std::move(chain).value();
    out.push_back(std::move(e));
  }
  return out;
}

Status MarkGpusReady(GpuProvider& p) {
  CVM_RETURN_IF_ERROR(p.SetReady(true));
  CVM_ASSIGN_OR_RETURN(bool ready, p.Ready());
  if (!ready) return Unavailable("the GPUs did not enter the ready state");
  return Status::Ok();
}

}  // namespace cvm::gpu
