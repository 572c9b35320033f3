// The extended-report certificate table (GHCB spec, SNP extended guest request; kernel
// `struct snp_msg_cert_entry`): what the host hands the guest beside a report, through
// SNP_GET_EXT_REPORT or configfs-tsm's auxblob. No I/O.
//
// Layout: an array of 24-byte entries { u8 guid[16]; u32 offset; u32 length; } (little-endian),
// terminated by an all-zero entry. Offsets count from the start of the table and point past the
// entries (including the terminator). GUID bytes are in canonical string order.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

namespace cvm::snp {

inline constexpr size_t kCertTableEntrySize = 24;

using Guid = std::array<uint8_t, 16>;

enum class CertKind { kArk, kAsk, kVcek, kVlek, kCrl, kOther };

// The GUID AMD assigns to each kind ("c0b406a4-a803-4952-9743-3fb6014cd0ae" for the ARK...).
// REQUIRES: kind != kOther.
Guid CertKindGuid(CertKind kind);
// The kind named by a GUID; kOther for GUIDs this build does not know.
CertKind CertKindFromGuid(const Guid& guid);
std::string_view CertKindName(CertKind kind);  // "ark", "ask", "vcek", "vlek", "crl", "other"
// "c0b406a4-a803-4952-9743-3fb6014cd0ae".
std::string GuidToString(const Guid& guid);

struct CertTableEntry {
  Guid guid{};
  CertKind kind = CertKind::kOther;
  Bytes data;  // DER certificate or CRL, as the host gave it (not parsed here)
};

// Parses a table. An empty buffer, or one whose first entry is the terminator, is an empty table
// (the host supplied no certificates). Returns kInvalidInput naming the entry when there is no
// terminator, an offset points into the entries, an entry runs past the buffer, or a GUID
// appears twice. Bytes after the last entry's data are ignored (the kernel hands over whole
// pages).
Result<std::vector<CertTableEntry>> ParseCertTable(ByteSpan table);

// Builds a table with the entries in order (data laid out after the terminator, in order).
Bytes SerializeCertTable(const std::vector<CertTableEntry>& entries);

// The data of the first entry of `kind`, or nullptr.
const Bytes* FindCert(const std::vector<CertTableEntry>& entries, CertKind kind);

}  // namespace cvm::snp
