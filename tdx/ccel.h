// The TDX CC event log (CCEL): the ACPI table that locates it, parsing through the shared TCG
// event-log parser (common/tcg_eventlog.h), replay into the TD's measurement registers, and the
// comparison with a quote.
//
// ACPI "CCEL" table (56 bytes; UEFI 2.10 / ACPI 6.5 section 5.2.34): 0 signature "CCEL",
// 4 length u32, 8 revision, 9 checksum, 10 OEM ID[6], 16 OEM table ID[8], 24 OEM revision u32,
// 28 creator ID u32, 32 creator revision u32, 36 CC type (1 SEV, 2 TDX), 37 CC subtype,
// 38 reserved u16, 40 LAML u64 (log area length), 48 LASA u64 (log area address).
// Linux exposes it as /sys/firmware/acpi/tables/CCEL and the log as .../tables/data/CCEL.
// The log is crypto-agile with SHA-384 only; the index is the CC MR index: 0 MRTD, 1..4 RTMR0..3
// (go-eventlog ccel). Replay starts every register at 48 zero bytes.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "tdx/quote.h"

namespace cvm::tdx {

inline constexpr size_t kCcelTableSize = 56;
inline constexpr uint8_t kCcTypeTdx = 2;

struct CcelTable {
  uint8_t cc_type = 0;
  uint8_t cc_subtype = 0;
  uint64_t log_area_length = 0;
  uint64_t log_area_address = 0;
};

// Parses the ACPI table; kInvalidInput for a wrong signature, length or checksum.
Result<CcelTable> ParseCcelTable(ByteSpan data);

struct CcelReplay {
  std::array<Bytes, 4> rtmr;  // RTMR0..3 (48 zero bytes when never extended)
  std::optional<Bytes> mrtd;  // replay of index 0 events, when the log has any
  size_t events = 0;          // measured events (EV_NO_ACTION and the header excluded)
};

// Parses a CCEL log area and replays it. kInvalidInput for a malformed log, and "not a TDX CC
// event log" for one whose digests are not SHA-384 only (a TPM event log has SHA-1/SHA-256
// banks).
Result<CcelReplay> ReplayCcel(ByteSpan log);

// Compares the replayed RTMRs with the quote's. kRejected listing every RTMR that differs.
// MRTD is not compared: the TDX module measures the initial TD pages itself and the log's
// index-0 events (if any) describe, not reproduce, that measurement.
Status CompareWithQuote(const CcelReplay& replay, const TdQuoteBody& body);

// Reads the table and log from `acpi_dir` (default /sys/firmware/acpi/tables): CCEL, data/CCEL.
struct CcelFiles {
  Bytes table;
  Bytes log;
};
Result<CcelFiles> ReadCcel(const std::string& acpi_dir = "/sys/firmware/acpi/tables");

}  // namespace cvm::tdx
