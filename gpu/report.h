// The NVIDIA confidential-computing GPU attestation report as NVML returns it
// (nvmlDeviceGetConfComputeGpuAttestationReport): one SPDM 1.1 GET_MEASUREMENTS exchange,
// request followed by the signed response (DMTF DSP0274 1.1, section 10.11). Parsing only, no I/O.
// Hopper and Blackwell use the same layout.
//
// Layout (all integers little-endian):
//   Request (37 bytes): 0 SPDMVersion (0x11) | 1 code (0xE0) | 2 Param1 (bit 0: signature
//     requested) | 3 Param2 (0xFF: all blocks) | 4 Nonce[32] | 36 SlotIDParam
//   Response (offsets from byte 37): 0 SPDMVersion (0x11) | 1 code (0x60 MEASUREMENTS) |
//     2 Param1 | 3 Param2 | 4 NumberOfBlocks u8 | 5 MeasurementRecordLength u24 |
//     8 MeasurementRecord[L1] | 8+L1 responder Nonce[32] | 40+L1 OpaqueLength u16 |
//     42+L1 OpaqueData[L2] | 42+L1+L2 Signature[96] (ECDSA P-384 r||s, big-endian)
//   Measurement block (DSP0274 table "Measurement block format"): Index u8 |
//     MeasurementSpecification u8 (1 = DMTF) | MeasurementSize u16 | DMTF value type u8 |
//     value size u16 | value[size] (a SHA-384 digest on NVIDIA GPUs).
//   Opaque data (NVIDIA's own format): repeated Type u16 | Size u16 | Value[Size].
// The signature covers SHA-384(request || response without the signature). The signature sits at
// the offset the lengths give; bytes after it (seen in real reports) must be zero.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

namespace cvm::gpu {

inline constexpr size_t kNonceSize = 32;
inline constexpr size_t kRequestSize = 37;
inline constexpr size_t kResponseHeaderSize = 8;
inline constexpr size_t kSignatureSize = 96;
inline constexpr size_t kFwidSize = 48;
inline constexpr uint8_t kSpdmVersion11 = 0x11;
inline constexpr uint8_t kGetMeasurements = 0xE0;
inline constexpr uint8_t kMeasurements = 0x60;
inline constexpr uint8_t kDmtfMeasurementSpec = 1;
// NVML's report buffer (nvmlConfComputeGpuAttestationReport_t.attestationReport).
inline constexpr size_t kMaxReportSize = 0x2000;

// Opaque-data field types (nvtrust local_gpu_verifier OpaqueData.OPAQUE_DATA_TYPES).
enum class OpaqueType : uint16_t {
  kCertIssuerName = 1,
  kCertAuthorityKeyId = 2,
  kDriverVersion = 3,
  kGpuInfo = 4,
  kSku = 5,
  kVbiosVersion = 6,
  kManufacturerId = 7,
  kTamperDetection = 8,
  kSmc = 9,
  kVpr = 10,
  kNvdec0Status = 11,
  kMsrsCount = 12,
  kCprInfo = 13,
  kBoardId = 14,
  kChipSku = 15,
  kChipSkuMod = 16,
  kProject = 17,
  kProjectSku = 18,
  kProjectSkuMod = 19,
  kFwid = 20,
  kProtectedPcieStatus = 21,
  kSwitchPdi = 22,
  kFloorsweptPorts = 23,
  kPositionId = 24,
  kLockSwitchStatus = 25,
  kGpuLinkConn = 32,
  kSysEnableStatus = 33,
  kOpaqueDataVersion = 34,
  kChipInfo = 35,
  kFeatureFlag = 36,
  kInvalid = 255,
};

// NVDEC0_STATUS byte values.
inline constexpr uint8_t kNvdecEnabled = 0xAA;
inline constexpr uint8_t kNvdecDisabled = 0x55;

struct OpaqueField {
  uint16_t type = 0;
  Bytes value;
};

// The opaque data decoded. Strings have their NUL padding removed; absent fields are empty or
// nullopt.
struct OpaqueData {
  std::vector<OpaqueField> fields;  // every field in order, including types this build ignores
  std::string driver_version;       // e.g. "550.90.07" (required)
  std::string vbios_version;        // "96.00.9F.00.01": bytes b3.b2.b1.b0.b4 in hex (required)
  std::string project;              // e.g. "G520"
  std::string project_sku;
  std::string chip_sku;
  std::string chip_info;  // Blackwell chip name (RIM id), e.g. "GB100"
  std::optional<Bytes> fwid;
  std::optional<uint8_t> nvdec0_status;
  std::optional<uint32_t> opaque_version;
  // 0 SPT (single GPU), 1 MPT (multi GPU), 2 PPCIE; read only when opaque_version >= 1.
  std::optional<uint32_t> feature_flag;
  std::optional<uint8_t> protected_pcie_status;
  // Times each block was extended (MSRSCNT), one u32 per block.
  std::vector<uint32_t> msrs_count;

  const OpaqueField* Find(OpaqueType type) const;
};

// Parses opaque data. kInvalidInput for a truncated field, a duplicate known field, a known field
// of the wrong size, or missing DRIVER_VERSION / VBIOS_VERSION. Unknown types are kept as raw
// fields (they are covered by the signature like everything else).
Result<OpaqueData> ParseOpaqueData(ByteSpan data);

// "SPT", "MPT", "PPCIE", or "unknown(N)".
std::string FeatureFlagName(uint32_t flag);

struct MeasurementBlock {
  uint8_t index = 0;  // 1-based
  uint8_t spec = 0;
  uint8_t value_type = 0;
  Bytes value;
};

struct AttestationReport {
  // Request.
  uint8_t request_param1 = 0;
  uint8_t request_param2 = 0;
  Bytes nonce;  // the requester's 32-byte nonce: what binds the report to a challenge
  uint8_t slot_id = 0;
  // Response.
  uint8_t response_param1 = 0;
  uint8_t response_param2 = 0;
  std::vector<MeasurementBlock> blocks;
  Bytes responder_nonce;
  Bytes opaque_raw;
  OpaqueData opaque;
  Bytes signature;         // r || s, 96 bytes
  size_t signed_size = 0;  // the signature covers report bytes [0, signed_size)
  size_t trailing_zero_bytes = 0;

  // The block with that 1-based index, or nullptr.
  const MeasurementBlock* Block(unsigned index) const;
};

// Parses a report from its raw bytes. kInvalidInput naming the field and offset for anything that
// does not follow the layout above (wrong version or code, bad lengths, a block whose
// specification is not DMTF, non-zero bytes after the signature).
Result<AttestationReport> ParseReport(ByteSpan raw);

// The raw report from a file's contents: raw bytes, or the hex text NVIDIA's tools write (one
// line, surrounding whitespace ignored). A raw report starts with 0x11, which is not a hex digit,
// so the two forms cannot be confused.
Result<Bytes> DecodeReportBytes(ByteSpan data);

// The signed part of a parsed report. REQUIRES: `raw` is what `r` was parsed from.
inline ByteSpan SignedPart(ByteSpan raw, const AttestationReport& r) {
  return raw.subspan(0, r.signed_size);
}

}  // namespace cvm::gpu
