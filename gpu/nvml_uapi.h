// The part of NVIDIA's NVML C API (nvml.h, driver R535 and later) that evidence collection uses,
// declared here so that building needs no NVIDIA package; the library is loaded with dlopen.
// Layouts as in nvml.h and NVIDIA's attestation SDK (src/gpu/nvml_client.cpp).
#pragma once

#include <cstdint>

namespace cvm::gpu::nvml_uapi {

using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
inline constexpr nvmlReturn_t NVML_SUCCESS = 0;

inline constexpr unsigned NVML_DEVICE_ARCH_HOPPER = 9;
inline constexpr unsigned NVML_DEVICE_ARCH_BLACKWELL = 10;
inline constexpr unsigned NVML_CC_SYSTEM_FEATURE_ENABLED = 1;
inline constexpr unsigned NVML_CC_SYSTEM_DEVTOOLS_MODE_ON = 1;
inline constexpr unsigned NVML_CC_SYSTEM_MULTIGPU_PROTECTED_PCIE = 1;
inline constexpr unsigned NVML_CC_ACCEPTING_CLIENT_REQUESTS_TRUE = 1;
inline constexpr unsigned NVML_DEVICE_UUID_V2_BUFFER_SIZE = 96;
inline constexpr unsigned NVML_DEVICE_VBIOS_VERSION_BUFFER_SIZE = 32;
inline constexpr unsigned NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE = 80;

struct nvmlConfComputeSystemState_t {
  unsigned int environment;
  unsigned int ccFeature;
  unsigned int devToolsMode;
};

struct nvmlSystemConfComputeSettings_v1_t {
  unsigned int version;  // sizeof | (1 << 24)
  unsigned int environment;
  unsigned int ccFeature;
  unsigned int devToolsMode;
  unsigned int multiGpuMode;
};

struct nvmlConfComputeGpuAttestationReport_t {
  unsigned int isCecAttestationReportPresent;
  unsigned int attestationReportSize;
  unsigned int cecAttestationReportSize;
  unsigned char nonce[32];
  unsigned char attestationReport[0x2000];
  unsigned char cecAttestationReport[0x1000];
};

struct nvmlConfComputeGpuCertificate_t {
  unsigned int certChainSize;
  unsigned int attestationCertChainSize;
  unsigned char certChain[0x1000];
  unsigned char attestationCertChain[0x1400];
};

}  // namespace cvm::gpu::nvml_uapi
