// The real NVIDIA samples in tests/data/vectors/nvidia-gpu/ (provenance in its README.md).
#pragma once

#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/clock.h"
#include "gpu/verify.h"

namespace cvm::gpu::testing {

// A time at which every sample certificate and the three RIMs' signers are valid.
TimePoint SampleTime();

struct Sample {
  std::string name;
  std::string report_path;  // relative to tests/data
  std::string chain_path;
  std::string nonce_hex;
};

Sample NvtrustHopper();  // driver 550.90.07
Sample TrusteeCoco();    // driver 580.95.05, one trailing zero byte
Sample Nvat535();        // driver 535.86.09, no FWID
std::vector<Sample> AllReportSamples();
// The first reason, or "" (for test failure messages).
std::string FirstReason(const std::vector<std::string>& reasons);

Bytes RawReport(const Sample& s);
GpuEvidence Evidence(const Sample& s);
Bytes Nonce(const Sample& s);
// tests/data/vectors/nvidia-gpu/<rel>
std::string Vec(const std::string& rel);
Bytes ReadVec(const std::string& rel);

}  // namespace cvm::gpu::testing
