// The TCG PC Client event log: the measured-boot log of a TPM
// (/sys/kernel/security/tpm0/binary_bios_measurements) and, in the same format, the TDX CC event
// log (ACPI CCEL). Both the crypto-agile format (TCG PC Client Platform Firmware Profile, section
// 10: a SHA-1-format header event carrying "Spec ID Event03", then TCG_PCR_EVENT2 records) and the
// legacy SHA-1-only format are parsed.
//
// Layouts (little-endian):
//   TCG_PCR_EVENT:  u32 pcr_index, u32 event_type, u8 digest[20], u32 event_size, event[...]
//   TCG_PCR_EVENT2: u32 pcr_index, u32 event_type, u32 digest_count,
//                   {u16 alg_id, digest[size from the Spec ID event]}[digest_count],
//                   u32 event_size, event[...]
//   Spec ID Event03 data: signature[16], u32 platform_class, u8 spec_minor, u8 spec_major,
//                   u8 errata, u8 uintn_size, u32 number_of_algorithms,
//                   {u16 alg_id, u16 digest_size}[n], u8 vendor_info_size, vendor_info[...]
// A pcr_index of 0xFFFFFFFF, or a tail of all-0xFF or all-zero bytes, ends the log (CCEL areas
// are pre-filled with 0xFF).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/digest.h"

namespace cvm::tcg {

inline constexpr uint32_t kEvNoAction = 0x3;
inline constexpr uint16_t kAlgSha1 = 0x0004;
inline constexpr uint16_t kAlgSha256 = 0x000B;
inline constexpr uint16_t kAlgSha384 = 0x000C;
inline constexpr uint16_t kAlgSha512 = 0x000D;
inline constexpr uint16_t kAlgSm3 = 0x0012;

struct AlgorithmSize {
  uint16_t alg_id;
  uint16_t digest_size;
};

struct EventDigest {
  uint16_t alg_id;
  Bytes digest;
};

struct Event {
  size_t offset = 0;   // of the record in the log
  uint32_t index = 0;  // PCR index (TPM) or CC measurement-register index (CCEL)
  uint32_t type = 0;   // EV_* event type
  std::vector<EventDigest> digests;
  Bytes data;
};

struct EventLog {
  bool crypto_agile = false;
  // The banks the log carries: from the Spec ID event, or {SHA-1, 20} for a legacy log.
  std::vector<AlgorithmSize> algorithms;
  // Every record, including the header event (events[0]) and EV_NO_ACTION events.
  std::vector<Event> events;
};

// Parses a whole log. kInvalidInput names the record offset and the field on any malformed or
// truncated record, a digest of an algorithm the Spec ID event did not declare, or more digests
// than declared algorithms.
Result<EventLog> ParseEventLog(ByteSpan data);

// SHA-1/256/384/512 map to DigestAlg; other TPM algorithm IDs (e.g. SM3) have none.
std::optional<DigestAlg> DigestAlgFromTpm(uint16_t alg_id);
// "sha1", "sha256", "sha384", "sha512", "sm3_256", or "0x00NN".
std::string TpmAlgName(uint16_t alg_id);
// "EV_POST_CODE", "EV_EFI_VARIABLE_DRIVER_CONFIG", ... or "0x..." for unknown types.
std::string EventTypeName(uint32_t type);

enum class ReplayMode {
  // TPM PCRs: all start at zero, except that an EV_NO_ACTION "StartupLocality" event sets the
  // last byte of PCR0's initial value to the locality (PC Client PFP, section 10.4.5.3).
  kTpm,
  // CC measurement registers (MRTD/RTMRs): all start at zero; no locality.
  kCcel,
};

// bank (TPM algorithm ID) -> register index -> value. Only registers that were extended (or, for
// PCR0, had a startup locality) appear. Banks whose algorithm has no DigestAlg are left out.
using Registers = std::map<uint16_t, std::map<uint32_t, Bytes>>;

// Replays every event but EV_NO_ACTION: R[index] = H(R[index] || digest) per bank.
Registers Replay(const EventLog& log, ReplayMode mode);

}  // namespace cvm::tcg
