// Intel SGX PCK certificate extensions (OID 1.2.840.113741.1.13.1), as Intel's PCS issues them
// (Intel SGX PCK Certificate and CRL Profile; DCAP PccsAdminTool pckcert.py):
//   SEQUENCE OF SEQUENCE { OID, value }:
//     .1 PPID OCTET STRING(16)
//     .2 TCB SEQUENCE OF { .2.1 ... .2.16 SGX TCB component SVN INTEGER, .2.17 PCESVN INTEGER,
//                          .2.18 CPUSVN OCTET STRING(16) }
//     .3 PCE-ID OCTET STRING(2)   .4 FMSPC OCTET STRING(6)   .5 SGX type ENUMERATED
//     .6 PlatformInstanceID, .7 Configuration (platform CA certificates only)
// Parsed with OpenSSL's generic ASN.1 decoder, never by hand.
#pragma once

#include <array>
#include <optional>

#include "common/bytes.h"
#include "common/status.h"
#include "common/x509.h"

namespace cvm::tdx {

inline constexpr const char* kSgxExtensionOid = "1.2.840.113741.1.13.1";

struct PckExtensions {
  Bytes ppid;                           // 16
  std::array<uint8_t, 16> tcb_comps{};  // SGX TCB component SVNs 1..16
  uint16_t pce_svn = 0;
  Bytes cpu_svn;     // 16
  Bytes pce_id;      // 2
  Bytes fmspc;       // 6
  int sgx_type = 0;  // 0 Standard, 1 Scalable, 2 Scalable with integrity
};

// Parses the DER value of the SGX extension. kInvalidInput naming the missing or malformed field.
Result<PckExtensions> ParsePckExtensions(ByteSpan der);
// Reads the SGX extension of a PCK certificate; kInvalidInput if it has none.
Result<PckExtensions> PckExtensionsOf(const Certificate& pck);

// Encodes the extension value (for the simulator). REQUIRES: fields of the documented sizes.
Result<Bytes> EncodePckExtensions(const PckExtensions& ext);

}  // namespace cvm::tdx
