// NVIDIA's public root certificates as PEM text (see roots_data.cc for the source).
#pragma once

namespace cvm::gpu::roots_data {

// CN=NVIDIA Device Identity CA, O=NVIDIA: the root of every GPU identity chain.
extern const char kDeviceIdentityRoot[];
// CN=NVIDIA CoRIM signing Root CA, O=NVIDIA, C=US: the root of the RIM signer chains.
extern const char kRimRoot[];

}  // namespace cvm::gpu::roots_data
