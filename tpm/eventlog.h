// The measured-boot event log next to the TPM: reading it from the kernel, and checking quoted
// PCR values against its replay and against expected values. The log format and replay are
// common/tcg_eventlog.h.
#pragma once

#include <string>
#include <vector>

#include "common/tcg_eventlog.h"
#include "tpm/pcr.h"

namespace cvm::tpm {

inline constexpr const char* kLinuxEventLogPath =
    "/sys/kernel/security/tpm0/binary_bios_measurements";

// Reads the kernel's copy of the firmware event log (securityfs; root only). kNotFound when the
// kernel exposes none, kPermissionDenied when not allowed.
Result<Bytes> ReadLinuxEventLog(const std::string& path = kLinuxEventLogPath);

// Parses a TPM measured-boot event log (TCG PC Client: crypto-agile or legacy SHA-1). What is
// evidently not one is named as such before parsing, so a random file is not reported as
// "truncated": kInvalidInput "not a TCG event log: ..." when the first event's header (u32 PCR
// index, u32 type, 20-byte digest, u32 size) names a PCR above 23 or holds more data than the
// file; otherwise the parser's error (tcg_eventlog.h).
Result<tcg::EventLog> ParseTpmEventLog(ByteSpan data);

// The replayed TPM PCRs (ReplayMode::kTpm) as PcrValues; banks we do not hash (SM3) are left out.
PcrValues ReplayPcrs(const tcg::EventLog& log);

// Checks every PCR in `quoted` against the replay of `log`. A PCR the log never extends must be
// all zeros (PCR0: its startup-locality value). kRejected listing every mismatch, e.g.
// "sha256:7 is 3d45... but the event log replays to 65ca..."; a bank the log does not carry is a
// mismatch too. Use it only on PCRs the log is meant to account for (firmware and boot loader,
// typically 0-9), not PCRs extended at run time without log entries.
Status ValidatePcrsAgainstEventLog(const PcrValues& quoted, const tcg::EventLog& log);

// The quoted PCRs that `log` accounts for: the firmware's and boot loader's PCRs 0-9 (the TCG PC
// Client profile logs every extend of these), and every other PCR the log extends in that bank.
// The rest say nothing about the log: IMA's PCR 10 (its own log), the DRTM PCRs 17-22 (reset to
// all ones without a dynamic launch), PCRs an OS extends without logging them here. Their names
// ("sha256:10") are appended to `not_covered` (may be null); they stay in the quote, for a policy
// on expected values to check.
PcrValues PcrsCoveredByEventLog(const PcrValues& quoted, const tcg::EventLog& log,
                                std::vector<std::string>* not_covered);

// Validation of expected values: every PCR in `expected` must be in `actual` with that value.
// kRejected listing every violation (missing or different).
Status ValidateExpectedPcrs(const PcrValues& actual, const PcrValues& expected);

}  // namespace cvm::tpm
