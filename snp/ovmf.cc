#include "snp/ovmf.h"

#include <cassert>
#include <string>

namespace cvm::snp {
namespace {

constexpr size_t kEntryHeaderSize = 18;  // u16 size + GUID
constexpr size_t kFooterGap = 32;        // the reset vector and padding after the table
constexpr size_t kMetadataHeaderSize = 16;
constexpr size_t kMetadataSectionSize = 12;

int HexNibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Size(size_t n) { return std::to_string(n); }

}  // namespace

Guid GuidFromString(std::string_view text) {
  // Canonical text order: u32, u16, u16 (each stored little-endian), then 8 bytes as written.
  std::array<uint8_t, 16> be{};
  size_t n = 0;
  for (size_t i = 0; i + 1 < text.size() && n < be.size();) {
    if (text[i] == '-') {
      ++i;
      continue;
    }
    be[n++] = static_cast<uint8_t>(HexNibble(text[i]) << 4 | HexNibble(text[i + 1]));
    i += 2;
  }
  assert(n == 16);
  Guid g = be;
  g[0] = be[3];
  g[1] = be[2];
  g[2] = be[1];
  g[3] = be[0];
  g[4] = be[5];
  g[5] = be[4];
  g[6] = be[7];
  g[7] = be[6];
  return g;
}

std::string_view MetadataSectionName(uint32_t type) {
  switch (static_cast<MetadataSectionType>(type)) {
    case MetadataSectionType::kSnpSecMem:
      return "SNP_SEC_MEM";
    case MetadataSectionType::kSnpSecrets:
      return "SNP_SECRETS";
    case MetadataSectionType::kCpuid:
      return "CPUID";
    case MetadataSectionType::kSvsmCaa:
      return "SVSM_CAA";
    case MetadataSectionType::kSnpKernelHashes:
      return "SNP_KERNEL_HASHES";
  }
  return "unknown";
}

Result<FirmwareImage> FirmwareImage::Parse(Bytes data, uint64_t end_gpa, std::string_view name) {
  FirmwareImage image;
  image.name_ = std::string(name);
  if (data.empty()) return InvalidInput(image.name_ + ": the image is empty");
  if (data.size() % kPageSize != 0) {
    return InvalidInput(image.name_ + ": " + Size(data.size()) +
                        " bytes is not a whole number of 4096-byte pages");
  }
  if (end_gpa % kPageSize != 0 || data.size() > end_gpa) {
    return InvalidInput(image.name_ + ": " + Size(data.size()) +
                        " bytes do not fit below the page-aligned end address " +
                        std::to_string(end_gpa));
  }
  image.data_ = std::move(data);
  image.gpa_ = end_gpa - image.data_.size();
  CVM_RETURN_IF_ERROR(image.ParseFooterTable());
  CVM_RETURN_IF_ERROR(image.ParseMetadata());
  return image;
}

Status FirmwareImage::ParseFooterTable() {
  const size_t size = data_.size();
  // A page is always larger than the footer gap plus one entry header.
  const size_t footer = size - kFooterGap - kEntryHeaderSize;
  ByteSpan bytes = data_;
  if (!std::equal(bytes.begin() + static_cast<std::ptrdiff_t>(footer + 2),
                  bytes.begin() + static_cast<std::ptrdiff_t>(footer + kEntryHeaderSize),
                  GuidFromString(kOvmfTableFooterGuid).begin())) {
    return Status::Ok();  // no footer table: an image that carries no SEV information
  }
  const size_t table_size = LoadLe16(bytes, footer);
  const std::string where = name_ + ": footer table";
  if (table_size < kEntryHeaderSize) {
    return InvalidInput(where + ": size " + Size(table_size) + " is smaller than its own header");
  }
  const size_t body = table_size - kEntryHeaderSize;
  if (body > footer) {
    return InvalidInput(where + ": size " + Size(table_size) + " reaches before the image start");
  }
  // Walk backwards from the footer: [begin, end) is what is left of the table's body.
  const size_t begin = footer - body;
  size_t end = footer;
  while (end - begin >= kEntryHeaderSize) {
    const size_t header = end - kEntryHeaderSize;
    const size_t entry_size = LoadLe16(bytes, header);
    if (entry_size < kEntryHeaderSize || entry_size > end - begin) {
      return InvalidInput(where + ": entry at offset " + Size(header) + " has size " +
                          Size(entry_size) + " (needs " + Size(kEntryHeaderSize) + ".." +
                          Size(end - begin) + ")");
    }
    Entry e{};
    std::copy(bytes.begin() + static_cast<std::ptrdiff_t>(header + 2),
              bytes.begin() + static_cast<std::ptrdiff_t>(end), e.guid.begin());
    e.size = entry_size - kEntryHeaderSize;
    e.offset = header - e.size;
    for (const auto& other : entries_) {
      if (other.guid == e.guid) {
        return InvalidInput(where + ": two entries with the same GUID (offset " + Size(header) +
                            ")");
      }
    }
    entries_.push_back(e);
    end -= entry_size;
  }
  if (end != begin) {
    return InvalidInput(where + ": " + Size(end - begin) +
                        " bytes left over before the first entry");
  }
  return Status::Ok();
}

Status FirmwareImage::ParseMetadata() {
  auto entry = TableEntry(GuidFromString(kOvmfSevMetadataGuid));
  if (!entry) return Status::Ok();
  const std::string where = name_ + ": SEV metadata";
  if (entry->size() < 4) return InvalidInput(where + ": the table entry is shorter than 4 bytes");
  const uint64_t from_end = LoadLe32(*entry, 0);
  if (from_end < kMetadataHeaderSize || from_end > data_.size()) {
    return InvalidInput(where + ": offset " + std::to_string(from_end) +
                        " from the end does not leave room for its header in the image");
  }
  const size_t start = data_.size() - from_end;
  ByteSpan header(data_.data() + start, kMetadataHeaderSize);
  if (AsChars(header.first(4)) != "ASEV") {
    return InvalidInput(where + ": signature is not \"ASEV\" (at offset " + Size(start) + ")");
  }
  const uint64_t size = LoadLe32(header, 4);
  const uint32_t version = LoadLe32(header, 8);
  const uint64_t count = LoadLe32(header, 12);
  if (version != 1) {
    return InvalidInput(where + ": version " + std::to_string(version) + " (only 1 is defined)");
  }
  if (size < kMetadataHeaderSize || size > from_end) {
    return InvalidInput(where + ": size " + std::to_string(size) +
                        " is smaller than its header or runs past the end of the image");
  }
  if (count > (size - kMetadataHeaderSize) / kMetadataSectionSize) {
    return InvalidInput(where + ": " + std::to_string(count) + " sections do not fit in " +
                        std::to_string(size) + " bytes");
  }
  for (size_t i = 0; i < count; ++i) {
    ByteSpan s(data_.data() + start + kMetadataHeaderSize + i * kMetadataSectionSize,
               kMetadataSectionSize);
    sections_.push_back({LoadLe32(s, 0), LoadLe32(s, 4), LoadLe32(s, 8)});
  }
  return Status::Ok();
}

std::optional<ByteSpan> FirmwareImage::TableEntry(const Guid& guid) const {
  for (const auto& e : entries_) {
    if (e.guid == guid) return ByteSpan(data_).subspan(e.offset, e.size);
  }
  return std::nullopt;
}

bool FirmwareImage::HasSection(MetadataSectionType type) const {
  for (const auto& s : sections_) {
    if (s.type == static_cast<uint32_t>(type)) return true;
  }
  return false;
}

Result<uint32_t> FirmwareImage::SevEsResetEip() const {
  auto e = TableEntry(GuidFromString(kSevEsResetBlockGuid));
  if (!e) {
    return InvalidInput(name_ +
                        ": no SEV-ES reset block in the footer table: this image cannot start "
                        "SEV-ES or SEV-SNP vCPUs");
  }
  if (e->size() < 4)
    return InvalidInput(name_ + ": the SEV-ES reset block is shorter than 4 bytes");
  return LoadLe32(*e, 0);
}

std::optional<uint32_t> FirmwareImage::SevHashTableGpa() const {
  auto e = TableEntry(GuidFromString(kSevHashTableRvGuid));
  if (!e || e->size() < 4) return std::nullopt;
  uint32_t gpa = LoadLe32(*e, 0);
  if (gpa == 0) return std::nullopt;
  return gpa;
}

Result<uint64_t> FirmwareImage::SvsmEntryPoint() const {
  auto e = TableEntry(GuidFromString(kSvsmInfoGuid));
  if (!e) return InvalidInput(name_ + ": no SVSM information entry in the footer table");
  if (e->size() < 4) return InvalidInput(name_ + ": the SVSM information entry is too short");
  return gpa_ + LoadLe32(*e, 0);
}

}  // namespace cvm::snp
