// The trust anchor of Intel's DCAP attestation: the Intel SGX Root CA, embedded.
#pragma once

#include "common/x509.h"

namespace cvm::tdx {

// The Intel SGX Root CA (CN=Intel SGX Root CA, self-signed ECDSA P-256, valid 2018-05-21 to
// 2049-12-31, SHA-256 fingerprint 44:A0:19:6B:...:74:D3; also at
// https://certificates.trustedservices.intel.com/Intel_SGX_Provisioning_Certification_RootCA.pem).
const Certificate& IntelSgxRootCa();

}  // namespace cvm::tdx
