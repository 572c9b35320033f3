#include "tests/gpu/fixtures.h"

#include <cstdlib>

#include "common/encoding.h"
#include "common/x509.h"
#include "gpu/report.h"
#include "tests/testing/testing.h"

namespace cvm::gpu::testing {

TimePoint SampleTime() { return *ParseTime("2025-03-01T00:00:00Z"); }

std::string Vec(const std::string& rel) {
  return cvm::testing::DataPath("vectors/nvidia-gpu/" + rel);
}
Bytes ReadVec(const std::string& rel) {
  return cvm::testing::ReadData("vectors/nvidia-gpu/" + rel);
}

Sample NvtrustHopper() {
  return {"nvtrust hopper", "nvtrust/hopperAttestationReport.txt", "nvtrust/hopperCertChain.txt",
          "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb"};
}
Sample TrusteeCoco() {
  return {"trustee coco", "trustee/hopper_coco_report1.txt", "trustee/hopper_coco_certs1.txt",
          "87d8e24ab336adafe228d49e83d745f6dba4ae505372b6a5704820856b343fec"};
}
Sample Nvat535() {
  return {"nvat 535.86.09", "nvat/hopper_535.86.09_report.txt",
          "nvat/hopper_535.86.09_certchain.txt",
          "27a328247bf7935c993341cf587be6f05986ccce4fe7ba2c54100bd616a58f66"};
}
std::vector<Sample> AllReportSamples() { return {NvtrustHopper(), TrusteeCoco(), Nvat535()}; }

std::string FirstReason(const std::vector<std::string>& r) { return r.empty() ? "" : r.front(); }

Bytes RawReport(const Sample& s) {
  auto b = DecodeReportBytes(ReadVec(s.report_path));
  if (!b.ok()) std::abort();
  return std::move(b).value();
}

GpuEvidence Evidence(const Sample& s) {
  GpuEvidence e;
  e.report = RawReport(s);
  auto chain = ParseCertificates(ReadVec(s.chain_path));
  if (!chain.ok()) std::abort();
  e.chain = std::move(chain).value();
  return e;
}

Bytes Nonce(const Sample& s) { return *HexDecode(s.nonce_hex); }

}  // namespace cvm::gpu::testing
