// DCAP collateral for TDX quotes in the PCCS JSON form and its parsers. Verifying it and
// evaluating a quote's TCB against it: tdx/tcb.h.
//
// The collateral document is one JSON object:
//   pck_crl_issuer_chain, tcb_info_issuer_chain, qe_identity_issuer_chain: PEM text
//   root_ca_crl, pck_crl: DER as a hex string or a byte array (PEM text is accepted too)
//   tcb_info, qe_identity: the signed JSON, either as a string holding the exact signed text
//     ({"id":"TDX",...}), or the PCS response ({"tcbInfo":{...},"signature":"..."}) as a string
//     or an object; then the signed bytes are the exact text of the "tcbInfo"/"enclaveIdentity"
//     value in the document, never a re-serialisation.
//   tcb_info_signature, qe_identity_signature: raw r||s ECDSA P-256 (64 bytes) as hex or bytes;
//     optional when the PCS response form carries "signature".
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/x509.h"
#include "tdx/pck.h"
#include "tdx/quote.h"

namespace cvm::tdx {

enum class TcbStatus {
  kUpToDate,
  kSWHardeningNeeded,
  kConfigurationNeeded,
  kConfigurationAndSWHardeningNeeded,
  kOutOfDate,
  kOutOfDateConfigurationNeeded,
  kRevoked,
};
// Intel's spelling, e.g. "SWHardeningNeeded".
std::string_view TcbStatusName(TcbStatus status);
// kInvalidInput for a name that is not one of the seven.
Result<TcbStatus> ParseTcbStatus(std::string_view name);

// The collateral document, undecoded except for its encodings.
struct Collateral {
  std::string pck_crl_issuer_chain;
  Bytes root_ca_crl;
  Bytes pck_crl;
  std::string tcb_info_issuer_chain;
  std::string tcb_info;      // the exact signed text of the tcbInfo object
  Bytes tcb_info_signature;  // 64, r||s
  std::string qe_identity_issuer_chain;
  std::string qe_identity;      // the exact signed text of the enclaveIdentity object
  Bytes qe_identity_signature;  // 64, r||s
};

// Parses the collateral document. kInvalidInput naming the field on malformed input.
Result<Collateral> ParseCollateral(std::string_view json);
// The document form ParseCollateral reads (CRLs and signatures as hex strings).
std::string EncodeCollateral(const Collateral& c);

// A PCS response body {"<key>": {...}, "signature": "hex"}: the exact text of the signed value
// and the decoded signature. kInvalidInput when the body is not of that form.
struct SignedJson {
  std::string text;
  Bytes signature;
};
Result<SignedJson> ParseSignedResponse(std::string_view body, std::string_view key);

struct TcbComponentsLevel {
  std::array<uint8_t, 16> sgx{};
  uint16_t pce_svn = 0;
  std::array<uint8_t, 16> tdx{};
  std::string tcb_date;
  TcbStatus status = TcbStatus::kUpToDate;
  std::vector<std::string> advisory_ids;
};

struct IsvSvnLevel {
  uint16_t isv_svn = 0;
  std::string tcb_date;
  TcbStatus status = TcbStatus::kUpToDate;
  std::vector<std::string> advisory_ids;
};

struct TdxModuleIdentity {
  std::string id;                     // "TDX_01" ...
  Bytes mrsigner;                     // 48
  Bytes attributes, attributes_mask;  // 8 each
  std::vector<IsvSvnLevel> levels;
};

// TCB info v3 for TDX (id "TDX").
struct TcbInfo {
  std::string id;
  int version = 0;
  TimePoint issue_date, next_update;
  Bytes fmspc;   // 6
  Bytes pce_id;  // 2
  int tcb_evaluation_data_number = 0;
  TdxModuleIdentity tdx_module;  // "tdxModule" (id empty)
  std::vector<TdxModuleIdentity> tdx_module_identities;
  std::vector<TcbComponentsLevel> levels;  // in document order (Intel sorts them descending)
};

// QE identity v2 (id "TD_QE" for TDX).
struct QeIdentity {
  std::string id;
  int version = 0;
  TimePoint issue_date, next_update;
  uint32_t miscselect = 0, miscselect_mask = 0;
  Bytes attributes, attributes_mask;  // 16 each
  Bytes mrsigner;                     // 32
  uint16_t isv_prod_id = 0;
  std::vector<IsvSvnLevel> levels;
};

Result<TcbInfo> ParseTcbInfo(std::string_view json);
Result<QeIdentity> ParseQeIdentity(std::string_view json);

}  // namespace cvm::tdx
