#include "snp/certs_table.h"

#include <algorithm>
#include <cstdio>
#include <set>

namespace cvm::snp {
namespace {

struct KnownGuid {
  CertKind kind;
  Guid guid;
};

// virtee/sev src/firmware/host/types/snp.rs; go-sev-guest abi.go.
constexpr KnownGuid kKnown[] = {
    {CertKind::kArk,
     {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0,
      0xae}},
    {CertKind::kAsk,
     {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4, 0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7,
      0x82}},
    {CertKind::kVcek,
     {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac,
      0xcd}},
    {CertKind::kVlek,
     {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e, 0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8,
      0xa1}},
    {CertKind::kCrl,
     {0x92, 0xf8, 0x1b, 0xc3, 0x58, 0x11, 0x4d, 0x3d, 0x97, 0xff, 0xd1, 0x9f, 0x88, 0xdc, 0x67,
      0xea}},
};

}  // namespace

Guid CertKindGuid(CertKind kind) {
  for (const auto& k : kKnown) {
    if (k.kind == kind) return k.guid;
  }
  return Guid{};
}

CertKind CertKindFromGuid(const Guid& guid) {
  for (const auto& k : kKnown) {
    if (k.guid == guid) return k.kind;
  }
  return CertKind::kOther;
}

std::string_view CertKindName(CertKind kind) {
  switch (kind) {
    case CertKind::kArk:
      return "ark";
    case CertKind::kAsk:
      return "ask";
    case CertKind::kVcek:
      return "vcek";
    case CertKind::kVlek:
      return "vlek";
    case CertKind::kCrl:
      return "crl";
    case CertKind::kOther:
      break;
  }
  return "other";
}

std::string GuidToString(const Guid& g) {
  char buf[40];
  std::snprintf(buf, sizeof(buf),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", g[0], g[1],
                g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], g[13], g[14],
                g[15]);
  return buf;
}

Result<std::vector<CertTableEntry>> ParseCertTable(ByteSpan table) {
  std::vector<CertTableEntry> out;
  if (table.empty()) return out;
  // Find the terminator first: it bounds the entries and the smallest legal offset.
  size_t count = 0;
  for (;; ++count) {
    size_t at = count * kCertTableEntrySize;
    if (at + kCertTableEntrySize > table.size()) {
      return InvalidInput("snp certificate table: no all-zero terminating entry within " +
                          std::to_string(table.size()) + " bytes");
    }
    if (IsAllZero(table.subspan(at, kCertTableEntrySize))) break;
  }
  const uint64_t entries_end = (count + 1) * uint64_t{kCertTableEntrySize};
  std::set<Guid> seen;
  for (size_t i = 0; i < count; ++i) {
    size_t at = i * kCertTableEntrySize;
    CertTableEntry e;
    std::copy_n(table.begin() + static_cast<std::ptrdiff_t>(at), 16, e.guid.begin());
    uint64_t offset = LoadLe32(table, at + 16);
    uint64_t length = LoadLe32(table, at + 20);
    std::string name =
        "snp certificate table: entry " + std::to_string(i) + " (" + GuidToString(e.guid) + ")";
    if (offset < entries_end) {
      return InvalidInput(name + ": offset " + std::to_string(offset) +
                          " points into the table's entries (which end at " +
                          std::to_string(entries_end) + ")");
    }
    if (offset + length > table.size()) {
      return InvalidInput(name + ": offset " + std::to_string(offset) + " + length " +
                          std::to_string(length) + " runs past the end of the " +
                          std::to_string(table.size()) + "-byte buffer");
    }
    if (!seen.insert(e.guid).second) return InvalidInput(name + ": GUID appears twice");
    e.kind = CertKindFromGuid(e.guid);
    auto data = table.subspan(static_cast<size_t>(offset), static_cast<size_t>(length));
    e.data.assign(data.begin(), data.end());
    out.push_back(std::move(e));
  }
  return out;
}

Bytes SerializeCertTable(const std::vector<CertTableEntry>& entries) {
  size_t header = (entries.size() + 1) * kCertTableEntrySize;
  Bytes out(header, 0);
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    size_t at = i * kCertTableEntrySize;
    std::copy(e.guid.begin(), e.guid.end(), out.begin() + static_cast<std::ptrdiff_t>(at));
    StoreLe32(out, at + 16, static_cast<uint32_t>(out.size()));
    StoreLe32(out, at + 20, static_cast<uint32_t>(e.data.size()));
    out.insert(out.end(), e.data.begin(), e.data.end());
  }
  return out;
}

const Bytes* FindCert(const std::vector<CertTableEntry>& entries, CertKind kind) {
  for (const auto& e : entries) {
    if (e.kind == kind) return &e.data;
  }
  return nullptr;
}

}  // namespace cvm::snp
