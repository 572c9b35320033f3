// NVIDIA's public roots, compiled in and pinned: the device identity root that every GPU's
// certificate chain ends at, and the root of the RIM signers. Source: NVIDIA/nvtrust
// local_gpu_verifier certs/ (copies in tests/data/vectors/nvidia-gpu/nvtrust/).
#pragma once

#include "common/x509.h"

namespace cvm::gpu {

// CN=NVIDIA Device Identity CA (SHA-256 fingerprint 102BF659...167B48). Thread-safe.
const Certificate& DeviceIdentityRoot();
// CN=NVIDIA CoRIM signing Root CA (SHA-256 fingerprint 12977B51...1DF5D1). Thread-safe.
const Certificate& RimRoot();

}  // namespace cvm::gpu
