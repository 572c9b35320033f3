// The parts of an OVMF (or Coconut-SVSM) firmware image that an SEV launch measures: the GUIDed
// footer table at the end of the image and the SEV metadata ("ASEV") that it points to.
//
// Footer table (OvmfPkg/ResetVector/Ia16/ResetVectorVtf0.asm): the image ends with 32 bytes
// (reset vector and padding); just before them sits the table's footer entry
//   u16 size | GUID 96b582de-1fb2-45f7-baea-a366c55a082d
// whose size covers the whole table including itself. Entries are read from the footer backwards;
// each one ends with its own (u16 size, GUID) and its data sits in the size - 18 bytes before.
// GUIDs are stored as in memory (the first three fields little-endian).
//
// SEV metadata (OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm): the table entry with GUID
// dc886566-984a-4798-a75e-5585a7bf67cc holds a u32 offset from the end of the image to
//   "ASEV" | u32 size | u32 version (1) | u32 count | count x { u32 gpa, u32 size, u32 type }
// where type is one of MetadataSectionType.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/bytes.h"

namespace cvm::snp {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint64_t kFourGiB = 0x100000000ULL;

using Guid = std::array<uint8_t, 16>;

// A GUID in its textual form ("96b582de-1fb2-...") as stored in the image (mixed endian).
// REQUIRES: `text` is a well-formed GUID (these are the constants below, not untrusted input).
Guid GuidFromString(std::string_view text);

// Footer-table GUIDs this code reads.
inline constexpr std::string_view kOvmfTableFooterGuid = "96b582de-1fb2-45f7-baea-a366c55a082d";
inline constexpr std::string_view kSevHashTableRvGuid = "7255371f-3a3b-4b04-927b-1da6efa8d454";
inline constexpr std::string_view kSevEsResetBlockGuid = "00f771de-1a7e-4fcb-890e-68c77e2fb44e";
inline constexpr std::string_view kOvmfSevMetadataGuid = "dc886566-984a-4798-a75e-5585a7bf67cc";
inline constexpr std::string_view kSvsmInfoGuid = "a789a612-0597-4c4b-a49f-cbb1fe9d1ddd";

enum class MetadataSectionType : uint32_t {
  kSnpSecMem = 1,         // pre-validated memory: zero pages (unmeasured on GCE)
  kSnpSecrets = 2,        // the secrets page the firmware fills
  kCpuid = 3,             // the CPUID page the firmware checks
  kSvsmCaa = 4,           // the SVSM calling-area page: zero
  kSnpKernelHashes = 16,  // the page that holds the SEV hash table of kernel, initrd, cmdline
};
// "SNP_SEC_MEM", ...; "unknown" for other values.
std::string_view MetadataSectionName(uint32_t type);

struct MetadataSection {
  uint32_t gpa = 0;
  uint32_t size = 0;
  uint32_t type = 0;  // a MetadataSectionType value, or an unknown one (refused when measured)
};

// A parsed firmware image. Owns its bytes.
class FirmwareImage {
 public:
  // Parses `data` as an image whose last byte sits just below `end_gpa` (4 GiB for OVMF).
  // The image must be a non-empty whole number of 4 KiB pages that fits below `end_gpa`. An image
  // without a footer table is accepted (it has no entries and no metadata); a footer table or
  // metadata that is present but malformed (sizes that point outside the image or the table, a
  // wrong "ASEV" signature or version, more sections than the header holds) is kInvalidInput
  // naming the problem. `name` prefixes errors ("firmware", "svsm").
  static Result<FirmwareImage> Parse(Bytes data, uint64_t end_gpa = kFourGiB,
                                     std::string_view name = "firmware");

  ByteSpan data() const { return data_; }
  // Guest physical address of the first byte.
  uint64_t gpa() const { return gpa_; }

  // The data of the footer-table entry with `guid`, or nullopt.
  std::optional<ByteSpan> TableEntry(const Guid& guid) const;
  // The number of footer-table entries (0 without a table).
  size_t table_size() const { return entries_.size(); }
  const std::vector<MetadataSection>& sections() const { return sections_; }
  bool HasSection(MetadataSectionType type) const;

  // The SEV-ES reset block's AP entry point (u32 at the start of its entry). kInvalidInput when
  // the image has no such entry (it cannot start SEV-ES/SNP vCPUs).
  Result<uint32_t> SevEsResetEip() const;
  // The GPA of the SEV hash table, or nullopt when the image has no such entry or it is zero.
  std::optional<uint32_t> SevHashTableGpa() const;
  // Coconut-SVSM: the entry point given by the SVSM information entry, as an absolute GPA.
  Result<uint64_t> SvsmEntryPoint() const;

 private:
  struct Entry {
    Guid guid;
    size_t offset, size;  // of the entry's data within data_
  };
  FirmwareImage() = default;
  Status ParseFooterTable();
  Status ParseMetadata();

  std::string name_;
  Bytes data_;
  uint64_t gpa_ = 0;
  std::vector<Entry> entries_;
  std::vector<MetadataSection> sections_;
};

}  // namespace cvm::snp
