#include "tdx/ccel.h"

#include <string>

#include "common/encoding.h"
#include "common/file_util.h"
#include "common/tcg_eventlog.h"

namespace cvm::tdx {

Result<CcelTable> ParseCcelTable(ByteSpan data) {
  if (data.size() < kCcelTableSize) {
    return InvalidInput("ccel table: " + std::to_string(data.size()) + " bytes, expected 56");
  }
  if (AsChars(data.first(4)) != "CCEL")
    return InvalidInput("ccel table: signature is not \"CCEL\"");
  uint32_t length = LoadLe32(data, 4);
  if (length != data.size() || length < kCcelTableSize) {
    return InvalidInput("ccel table: length field " + std::to_string(length) + " does not match " +
                        std::to_string(data.size()) + " bytes");
  }
  uint8_t sum = 0;
  for (uint8_t b : data) sum = static_cast<uint8_t>(sum + b);
  if (sum != 0) return InvalidInput("ccel table: checksum does not add up to zero");
  CcelTable t;
  t.cc_type = data[36];
  t.cc_subtype = data[37];
  t.log_area_length = LoadLe64(data, 40);
  t.log_area_address = LoadLe64(data, 48);
  return t;
}

Result<CcelReplay> ReplayCcel(ByteSpan log) {
  auto parsed = tcg::ParseEventLog(log);
  if (!parsed.ok()) return parsed.status().WithContext("ccel");
  // A CCEL carries SHA-384 digests only; anything else is another kind of log (a TPM's), whose
  // PCR indices would be misread as RTMRs.
  std::string others;
  bool sha384 = false;
  for (const auto& a : parsed->algorithms) {
    if (a.alg_id == tcg::kAlgSha384) {
      sha384 = true;
    } else {
      others += (others.empty() ? "" : ", ") + tcg::TpmAlgName(a.alg_id);
    }
  }
  if (!others.empty()) {
    return InvalidInput("not a TDX CC event log: it has " + others +
                        " digests, where a CCEL has SHA-384 only (a TPM event log?)");
  }
  if (!sha384) return InvalidInput("ccel: the log has no SHA-384 digests");
  tcg::Registers regs = tcg::Replay(*parsed, tcg::ReplayMode::kCcel);
  CcelReplay out;
  const auto& bank = regs[tcg::kAlgSha384];
  for (uint32_t i = 0; i < 4; ++i) {
    auto it = bank.find(i + 1);
    out.rtmr[i] = it == bank.end() ? Bytes(48, 0) : it->second;
  }
  if (auto it = bank.find(0); it != bank.end()) out.mrtd = it->second;
  for (size_t i = 1; i < parsed->events.size(); ++i) {
    if (parsed->events[i].type != tcg::kEvNoAction) ++out.events;
  }
  return out;
}

Status CompareWithQuote(const CcelReplay& replay, const TdQuoteBody& body) {
  std::string diffs;
  for (size_t i = 0; i < 4; ++i) {
    if (replay.rtmr[i] != body.rtmr[i]) {
      diffs += (diffs.empty() ? "" : "; ") + std::string("RTMR") + std::to_string(i) +
               ": log replays to " + HexEncode(replay.rtmr[i]) + ", quote has " +
               HexEncode(body.rtmr[i]);
    }
  }
  if (!diffs.empty()) return Rejected("ccel does not match the quote: " + diffs);
  return Status::Ok();
}

Result<CcelFiles> ReadCcel(const std::string& acpi_dir) {
  CcelFiles f;
  CVM_ASSIGN_OR_RETURN(f.table, ReadFile(acpi_dir + "/CCEL", 4096));
  CVM_ASSIGN_OR_RETURN(f.log, ReadFile(acpi_dir + "/data/CCEL", 64 << 20));
  return f;
}

}  // namespace cvm::tdx
