// Fetching TDX collateral from Intel's Provisioning Certification Service (PCS) or a PCCS, which
// serves the same v4 API (go-tdx-guest pcs/pcs.go; Intel PCS API documentation):
//   GET {base}/tdx/certification/v4/tcb?fmspc={hex}       -> {"tcbInfo":{...},"signature":"hex"}
//       header TCB-Info-Issuer-Chain (URL-encoded PEM)
//   GET {base}/tdx/certification/v4/qe/identity            ->
//   {"enclaveIdentity":{...},"signature":"hex"}
//       header SGX-Enclave-Identity-Issuer-Chain
//   GET {base}/sgx/certification/v4/pckcrl?ca={platform|processor}&encoding=der -> DER CRL
//       header SGX-PCK-CRL-Issuer-Chain
//   GET {root_crl_url}                                     -> DER CRL of the Intel SGX Root CA
// What is fetched is untrusted: VerifyCollateral (tdx/tcb.h) checks it like collateral from a file.
#pragma once

#include <string>

#include "common/http.h"
#include "common/x509.h"
#include "tdx/collateral.h"
#include "tdx/pck.h"

namespace cvm::tdx {

struct PcsOptions {
  // Intel PCS, or a PCCS such as "https://pccs.example:8081".
  std::string base_url = "https://api.trustedservices.intel.com";
  std::string root_crl_url = "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der";
};

// Fetches the collateral for a quote whose PCK certificate is `pck` (its issuer's common name
// selects the platform or processor CA CRL). kUnavailable when the service cannot be reached or
// answers with an error status; kInvalidInput for a response that is not what the API defines.
Result<Collateral> FetchCollateral(HttpClient& http, const Certificate& pck,
                                   const PckExtensions& ext, const PcsOptions& options = {});

}  // namespace cvm::tdx
