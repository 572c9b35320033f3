#include "gpu/report.h"

#include <cctype>
#include <cstdio>

#include "common/encoding.h"

namespace cvm::gpu {
namespace {

// A string field: ASCII padded with NULs. Stops at the first NUL.
std::string AsciiField(ByteSpan v) {
  std::string s;
  for (uint8_t c : v) {
    if (c == 0) break;
    s.push_back(static_cast<char>(c));
  }
  return s;
}

bool IsKnownType(uint16_t t) { return (t >= 1 && t <= 25) || (t >= 32 && t <= 36) || t == 255; }

std::string FormatVbios(ByteSpan v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02X.%02X.%02X.%02X.%02X", v[3], v[2], v[1], v[0], v[4]);
  return buf;
}

Status WantSize(const OpaqueField& f, size_t size, std::string_view name) {
  if (f.value.size() != size) {
    return InvalidInput("opaque data: " + std::string(name) + " has " +
                        std::to_string(f.value.size()) + " bytes, expected " +
                        std::to_string(size));
  }
  return Status::Ok();
}

Result<uint32_t> SmallInt(const OpaqueField& f, std::string_view name) {
  if (f.value.empty() || f.value.size() > 4) {
    return InvalidInput("opaque data: " + std::string(name) + " has " +
                        std::to_string(f.value.size()) + " bytes, expected 1 to 4");
  }
  uint32_t v = 0;
  for (size_t i = f.value.size(); i-- > 0;) v = (v << 8) | f.value[i];
  return v;
}

}  // namespace

const OpaqueField* OpaqueData::Find(OpaqueType type) const {
  for (const auto& f : fields) {
    if (f.type == static_cast<uint16_t>(type)) return &f;
  }
  return nullptr;
}

std::string FeatureFlagName(uint32_t flag) {
  switch (flag) {
    case 0:
      return "SPT";
    case 1:
      return "MPT";
    case 2:
      return "PPCIE";
    default:
      return "unknown(" + std::to_string(flag) + ")";
  }
}

Result<OpaqueData> ParseOpaqueData(ByteSpan data) {
  OpaqueData out;
  ByteReader r(data, "opaque data");
  std::vector<bool> seen(256, false);
  while (!r.empty()) {
    CVM_ASSIGN_OR_RETURN(uint16_t type, r.U16("field type"));
    CVM_ASSIGN_OR_RETURN(uint16_t size, r.U16("field size"));
    CVM_ASSIGN_OR_RETURN(ByteSpan value, r.Take(size, "field value"));
    if (IsKnownType(type)) {
      if (seen[type]) return r.Error("duplicate field of type " + std::to_string(type));
      seen[type] = true;
    }
    out.fields.push_back(OpaqueField{type, ToBytes(value)});
  }
  for (const auto& f : out.fields) {
    switch (static_cast<OpaqueType>(f.type)) {
      case OpaqueType::kDriverVersion:
        out.driver_version = AsciiField(f.value);
        break;
      case OpaqueType::kVbiosVersion:
        CVM_RETURN_IF_ERROR(WantSize(f, 8, "VBIOS_VERSION"));
        out.vbios_version = FormatVbios(f.value);
        break;
      case OpaqueType::kProject:
        out.project = AsciiField(f.value);
        break;
      case OpaqueType::kProjectSku:
        out.project_sku = AsciiField(f.value);
        break;
      case OpaqueType::kChipSku:
        out.chip_sku = AsciiField(f.value);
        break;
      case OpaqueType::kChipInfo:
        out.chip_info = AsciiField(f.value);
        break;
      case OpaqueType::kFwid:
        CVM_RETURN_IF_ERROR(WantSize(f, kFwidSize, "FWID"));
        out.fwid = f.value;
        break;
      case OpaqueType::kNvdec0Status:
        CVM_RETURN_IF_ERROR(WantSize(f, 1, "NVDEC0_STATUS"));
        out.nvdec0_status = f.value[0];
        break;
      case OpaqueType::kProtectedPcieStatus:
        CVM_RETURN_IF_ERROR(WantSize(f, 1, "PROTECTED_PCIE_STATUS"));
        out.protected_pcie_status = f.value[0];
        break;
      case OpaqueType::kOpaqueDataVersion: {
        CVM_ASSIGN_OR_RETURN(uint32_t v, SmallInt(f, "OPAQUE_DATA_VERSION"));
        out.opaque_version = v;
        break;
      }
      case OpaqueType::kMsrsCount:
        if (f.value.size() % 4 != 0) {
          return InvalidInput("opaque data: MSRSCNT size " + std::to_string(f.value.size()) +
                              " is not a multiple of 4");
        }
        for (size_t i = 0; i < f.value.size(); i += 4) {
          out.msrs_count.push_back(LoadLe32(f.value, i));
        }
        break;
      default:
        break;
    }
  }
  // FEATURE_FLAG exists before version 1 in some reports but only means something from version 1
  // on (nvtrust OpaqueData, NVIDIA attestation SDK).
  if (const OpaqueField* f = out.Find(OpaqueType::kFeatureFlag);
      f != nullptr && out.opaque_version.value_or(0) >= 1) {
    CVM_ASSIGN_OR_RETURN(uint32_t v, SmallInt(*f, "FEATURE_FLAG"));
    out.feature_flag = v;
  }
  if (out.Find(OpaqueType::kDriverVersion) == nullptr) {
    return InvalidInput("opaque data: no DRIVER_VERSION field");
  }
  if (out.Find(OpaqueType::kVbiosVersion) == nullptr) {
    return InvalidInput("opaque data: no VBIOS_VERSION field");
  }
  return out;
}

const MeasurementBlock* AttestationReport::Block(unsigned index) const {
  for (const auto& b : blocks) {
    if (b.index == index) return &b;
  }
  return nullptr;
}

Result<AttestationReport> ParseReport(ByteSpan raw) {
  AttestationReport out;
  ByteReader r(raw, "gpu report");
  CVM_ASSIGN_OR_RETURN(uint8_t req_version, r.U8("request SPDMVersion"));
  if (req_version != kSpdmVersion11) {
    return r.Error("request SPDM version 0x" + HexEncode(Bytes{req_version}) + ", expected 0x11");
  }
  CVM_ASSIGN_OR_RETURN(uint8_t req_code, r.U8("request code"));
  if (req_code != kGetMeasurements) {
    return r.Error("request code 0x" + HexEncode(Bytes{req_code}) +
                   ", expected 0xe0 (GET_MEASUREMENTS)");
  }
  CVM_ASSIGN_OR_RETURN(out.request_param1, r.U8("request Param1"));
  if ((out.request_param1 & 1) == 0) return r.Error("request does not ask for a signature");
  CVM_ASSIGN_OR_RETURN(out.request_param2, r.U8("request Param2"));
  CVM_ASSIGN_OR_RETURN(ByteSpan nonce, r.Take(kNonceSize, "request nonce"));
  out.nonce = ToBytes(nonce);
  CVM_ASSIGN_OR_RETURN(out.slot_id, r.U8("request SlotIDParam"));

  CVM_ASSIGN_OR_RETURN(uint8_t resp_version, r.U8("response SPDMVersion"));
  if (resp_version != kSpdmVersion11) {
    return r.Error("response SPDM version 0x" + HexEncode(Bytes{resp_version}) + ", expected 0x11");
  }
  CVM_ASSIGN_OR_RETURN(uint8_t resp_code, r.U8("response code"));
  if (resp_code != kMeasurements) {
    return r.Error("response code 0x" + HexEncode(Bytes{resp_code}) +
                   ", expected 0x60 (MEASUREMENTS)");
  }
  CVM_ASSIGN_OR_RETURN(out.response_param1, r.U8("response Param1"));
  CVM_ASSIGN_OR_RETURN(out.response_param2, r.U8("response Param2"));
  CVM_ASSIGN_OR_RETURN(uint8_t num_blocks, r.U8("NumberOfBlocks"));
  CVM_ASSIGN_OR_RETURN(uint8_t l0, r.U8("MeasurementRecordLength"));
  CVM_ASSIGN_OR_RETURN(uint16_t l12, r.U16("MeasurementRecordLength"));
  uint32_t record_len = static_cast<uint32_t>(l0) | (static_cast<uint32_t>(l12) << 8);
  CVM_ASSIGN_OR_RETURN(ByteSpan record, r.Take(record_len, "MeasurementRecord"));

  ByteReader mr(record, "measurement record");
  for (unsigned i = 0; i < num_blocks; ++i) {
    MeasurementBlock b;
    CVM_ASSIGN_OR_RETURN(b.index, mr.U8("block Index"));
    CVM_ASSIGN_OR_RETURN(b.spec, mr.U8("block MeasurementSpecification"));
    if (b.spec != kDmtfMeasurementSpec) {
      return mr.Error("block " + std::to_string(b.index) + " has measurement specification " +
                      std::to_string(b.spec) + ", expected 1 (DMTF)");
    }
    CVM_ASSIGN_OR_RETURN(uint16_t msize, mr.U16("block MeasurementSize"));
    CVM_ASSIGN_OR_RETURN(ByteSpan m, mr.Take(msize, "block Measurement"));
    ByteReader vr(m, "measurement block " + std::to_string(b.index));
    CVM_ASSIGN_OR_RETURN(b.value_type, vr.U8("DMTFSpecMeasurementValueType"));
    CVM_ASSIGN_OR_RETURN(uint16_t vsize, vr.U16("DMTFSpecMeasurementValueSize"));
    CVM_ASSIGN_OR_RETURN(ByteSpan value, vr.Take(vsize, "DMTFSpecMeasurementValue"));
    if (!vr.empty()) {
      return vr.Error(std::to_string(vr.remaining()) + " bytes after the measurement value");
    }
    if (out.Block(b.index) != nullptr) {
      return mr.Error("duplicate measurement block index " + std::to_string(b.index));
    }
    b.value = ToBytes(value);
    out.blocks.push_back(std::move(b));
  }
  if (!mr.empty()) {
    return mr.Error(std::to_string(mr.remaining()) + " bytes after " + std::to_string(num_blocks) +
                    " blocks");
  }

  CVM_ASSIGN_OR_RETURN(ByteSpan rnonce, r.Take(kNonceSize, "response nonce"));
  out.responder_nonce = ToBytes(rnonce);
  CVM_ASSIGN_OR_RETURN(uint16_t opaque_len, r.U16("OpaqueLength"));
  CVM_ASSIGN_OR_RETURN(ByteSpan opaque, r.Take(opaque_len, "OpaqueData"));
  out.opaque_raw = ToBytes(opaque);
  auto od = ParseOpaqueData(opaque);
  if (!od.ok()) return od.status().WithContext("gpu report");
  out.opaque = std::move(od).value();
  out.signed_size = r.offset();
  CVM_ASSIGN_OR_RETURN(ByteSpan sig, r.Take(kSignatureSize, "signature"));
  out.signature = ToBytes(sig);
  if (!IsAllZero(r.rest())) {
    return r.Error(std::to_string(r.remaining()) + " bytes after the signature, not all zero");
  }
  out.trailing_zero_bytes = r.remaining();
  return out;
}

Result<Bytes> DecodeReportBytes(ByteSpan data) {
  std::string_view text = AsChars(data);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  if (text.empty()) return InvalidInput("gpu report: empty input");
  if (std::isxdigit(static_cast<unsigned char>(text.front()))) {
    auto b = HexDecode(text);
    if (!b.ok()) return b.status().WithContext("gpu report (hex text)");
    return b;
  }
  return ToBytes(data);
}

}  // namespace cvm::gpu
