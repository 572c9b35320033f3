#include "common/tcg_eventlog.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "common/encoding.h"
#include "common/ossl.h"

namespace cvm::tcg {
namespace {

constexpr uint32_t kEndOfLog = 0xFFFFFFFF;
constexpr size_t kSha1Size = 20;
constexpr size_t kMaxAlgorithms = 16;
constexpr char kSpecIdSignature[] = "Spec ID Event03";  // 16 bytes with the NUL
constexpr char kStartupLocality[] = "StartupLocality";  // 16 bytes with the NUL

std::string At(size_t offset) { return "event at offset " + std::to_string(offset); }

bool TailIsPadding(ByteSpan rest) {
  return std::all_of(rest.begin(), rest.end(), [](uint8_t b) { return b == 0xFF; }) ||
         std::all_of(rest.begin(), rest.end(), [](uint8_t b) { return b == 0x00; });
}

// Reads a TCG_PCR_EVENT (SHA-1 format) record.
Result<Event> ReadSha1Event(ByteReader& r) {
  Event e;
  e.offset = r.offset();
  CVM_ASSIGN_OR_RETURN(e.index, r.U32("pcr index"));
  CVM_ASSIGN_OR_RETURN(e.type, r.U32("event type"));
  CVM_ASSIGN_OR_RETURN(ByteSpan digest, r.Take(kSha1Size, "SHA-1 digest"));
  e.digests.push_back({kAlgSha1, ToBytes(digest)});
  CVM_ASSIGN_OR_RETURN(uint32_t size, r.U32("event size"));
  CVM_ASSIGN_OR_RETURN(ByteSpan data, r.Take(size, "event data"));
  e.data = ToBytes(data);
  return e;
}

Result<Event> ReadAgileEvent(ByteReader& r, const std::vector<AlgorithmSize>& algorithms) {
  Event e;
  e.offset = r.offset();
  CVM_ASSIGN_OR_RETURN(e.index, r.U32("pcr index"));
  CVM_ASSIGN_OR_RETURN(e.type, r.U32("event type"));
  CVM_ASSIGN_OR_RETURN(uint32_t count, r.U32("digest count"));
  if (count > algorithms.size()) {
    return r.Error(At(e.offset) + ": " + std::to_string(count) + " digests but the log declares " +
                   std::to_string(algorithms.size()) + " algorithms");
  }
  e.digests.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    CVM_ASSIGN_OR_RETURN(uint16_t alg, r.U16("digest algorithm"));
    auto it = std::find_if(algorithms.begin(), algorithms.end(),
                           [&](const AlgorithmSize& a) { return a.alg_id == alg; });
    if (it == algorithms.end()) {
      return r.Error(At(e.offset) + ": digest algorithm " + TpmAlgName(alg) +
                     " is not declared in the Spec ID event");
    }
    // TCG PC Client PFP 10.2.2: one digest per algorithm. A repeated one would be extended twice.
    if (std::any_of(e.digests.begin(), e.digests.end(),
                    [&](const EventDigest& d) { return d.alg_id == alg; })) {
      return r.Error(At(e.offset) + ": digest algorithm " + TpmAlgName(alg) +
                     " appears twice in one event");
    }
    CVM_ASSIGN_OR_RETURN(ByteSpan digest, r.Take(it->digest_size, "digest"));
    e.digests.push_back({alg, ToBytes(digest)});
  }
  CVM_ASSIGN_OR_RETURN(uint32_t size, r.U32("event size"));
  CVM_ASSIGN_OR_RETURN(ByteSpan data, r.Take(size, "event data"));
  e.data = ToBytes(data);
  return e;
}

bool IsSpecIdEvent(const Event& e) {
  return e.type == kEvNoAction && e.data.size() >= sizeof(kSpecIdSignature) &&
         std::memcmp(e.data.data(), kSpecIdSignature, sizeof(kSpecIdSignature)) == 0;
}

Result<std::vector<AlgorithmSize>> ParseSpecId(const Event& header) {
  ByteReader r(header.data, "Spec ID event");
  CVM_RETURN_IF_ERROR(r.Skip(16 + 4 + 4, "signature, platform class and versions"));
  CVM_ASSIGN_OR_RETURN(uint32_t n, r.U32("number of algorithms"));
  if (n == 0 || n > kMaxAlgorithms) {
    return r.Error("number of algorithms " + std::to_string(n) + " is not in 1.." +
                   std::to_string(kMaxAlgorithms));
  }
  std::vector<AlgorithmSize> algs;
  for (uint32_t i = 0; i < n; ++i) {
    CVM_ASSIGN_OR_RETURN(uint16_t id, r.U16("algorithm id"));
    CVM_ASSIGN_OR_RETURN(uint16_t size, r.U16("digest size"));
    if (size == 0 || size > 64)
      return r.Error("digest size " + std::to_string(size) + " for " + TpmAlgName(id));
    if (auto alg = DigestAlgFromTpm(id); alg && DigestSize(*alg) != size) {
      return r.Error(TpmAlgName(id) + " declared with digest size " + std::to_string(size));
    }
    if (std::any_of(algs.begin(), algs.end(),
                    [&](const AlgorithmSize& a) { return a.alg_id == id; })) {
      return r.Error(TpmAlgName(id) + " is declared twice");
    }
    algs.push_back({id, size});
  }
  CVM_ASSIGN_OR_RETURN(uint8_t vendor_size, r.U8("vendor info size"));
  CVM_RETURN_IF_ERROR(r.Skip(vendor_size, "vendor info"));
  return algs;
}

}  // namespace

Result<EventLog> ParseEventLog(ByteSpan data) {
  ByteReader r(data, "event log");
  EventLog log;
  if (data.empty()) return InvalidInput("event log: empty");
  CVM_ASSIGN_OR_RETURN(Event header, ReadSha1Event(r));
  log.crypto_agile = IsSpecIdEvent(header);
  if (log.crypto_agile) {
    auto algs = ParseSpecId(header);
    if (!algs.ok()) return algs.status().WithContext("event log");
    log.algorithms = std::move(*algs);
  } else {
    log.algorithms = {{kAlgSha1, kSha1Size}};
  }
  log.events.push_back(std::move(header));
  while (!r.empty()) {
    if (TailIsPadding(r.rest())) break;
    if (r.remaining() >= 4 && LoadLe32(r.rest(), 0) == kEndOfLog) break;
    auto e = log.crypto_agile ? ReadAgileEvent(r, log.algorithms) : ReadSha1Event(r);
    if (!e.ok()) return e.status();
    log.events.push_back(std::move(*e));
  }
  return log;
}

std::optional<DigestAlg> DigestAlgFromTpm(uint16_t alg_id) {
  switch (alg_id) {
    case kAlgSha1:
      return DigestAlg::kSha1;
    case kAlgSha256:
      return DigestAlg::kSha256;
    case kAlgSha384:
      return DigestAlg::kSha384;
    case kAlgSha512:
      return DigestAlg::kSha512;
    default:
      return std::nullopt;
  }
}

std::string TpmAlgName(uint16_t alg_id) {
  switch (alg_id) {
    case kAlgSha1:
      return "sha1";
    case kAlgSha256:
      return "sha256";
    case kAlgSha384:
      return "sha384";
    case kAlgSha512:
      return "sha512";
    case kAlgSm3:
      return "sm3_256";
    default: {
      uint8_t be[2] = {static_cast<uint8_t>(alg_id >> 8), static_cast<uint8_t>(alg_id)};
      return "0x" + HexEncode(be);
    }
  }
}

std::string EventTypeName(uint32_t type) {
  // TCG PC Client Platform Firmware Profile, section 10.4.1.
  static const std::map<uint32_t, const char*> kNames = {
      {0x0, "EV_PREBOOT_CERT"},
      {0x1, "EV_POST_CODE"},
      {0x2, "EV_UNUSED"},
      {0x3, "EV_NO_ACTION"},
      {0x4, "EV_SEPARATOR"},
      {0x5, "EV_ACTION"},
      {0x6, "EV_EVENT_TAG"},
      {0x7, "EV_S_CRTM_CONTENTS"},
      {0x8, "EV_S_CRTM_VERSION"},
      {0x9, "EV_CPU_MICROCODE"},
      {0xA, "EV_PLATFORM_CONFIG_FLAGS"},
      {0xB, "EV_TABLE_OF_DEVICES"},
      {0xC, "EV_COMPACT_HASH"},
      {0xD, "EV_IPL"},
      {0xE, "EV_IPL_PARTITION_DATA"},
      {0xF, "EV_NONHOST_CODE"},
      {0x10, "EV_NONHOST_CONFIG"},
      {0x11, "EV_NONHOST_INFO"},
      {0x12, "EV_OMIT_BOOT_DEVICE_EVENTS"},
      {0x80000000, "EV_EFI_EVENT_BASE"},
      {0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG"},
      {0x80000002, "EV_EFI_VARIABLE_BOOT"},
      {0x80000003, "EV_EFI_BOOT_SERVICES_APPLICATION"},
      {0x80000004, "EV_EFI_BOOT_SERVICES_DRIVER"},
      {0x80000005, "EV_EFI_RUNTIME_SERVICES_DRIVER"},
      {0x80000006, "EV_EFI_GPT_EVENT"},
      {0x80000007, "EV_EFI_ACTION"},
      {0x80000008, "EV_EFI_PLATFORM_FIRMWARE_BLOB"},
      {0x80000009, "EV_EFI_HANDOFF_TABLES"},
      {0x8000000A, "EV_EFI_PLATFORM_FIRMWARE_BLOB2"},
      {0x8000000B, "EV_EFI_HANDOFF_TABLES2"},
      {0x8000000C, "EV_EFI_VARIABLE_BOOT2"},
      {0x80000010, "EV_EFI_HCRTM_EVENT"},
      {0x800000E0, "EV_EFI_VARIABLE_AUTHORITY"},
      {0x800000E1, "EV_EFI_SPDM_FIRMWARE_BLOB"},
      {0x800000E2, "EV_EFI_SPDM_FIRMWARE_CONFIG"},
  };
  auto it = kNames.find(type);
  if (it != kNames.end()) return it->second;
  uint8_t be[4] = {static_cast<uint8_t>(type >> 24), static_cast<uint8_t>(type >> 16),
                   static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type)};
  return "0x" + HexEncode(be);
}

Registers Replay(const EventLog& log, ReplayMode mode) {
  Registers regs;
  auto reg = [&](uint16_t alg_id, uint32_t index) -> Bytes& {
    auto& bank = regs[alg_id];
    auto it = bank.find(index);
    if (it == bank.end()) {
      it = bank.emplace(index, Bytes(DigestSize(*DigestAlgFromTpm(alg_id)), 0)).first;
    }
    return it->second;
  };
  // One digest context per algorithm for the whole replay, re-initialised per extension: a log
  // extends registers hundreds of times, and a fresh context (or one switched between
  // algorithms, which reallocates its state) costs more than hashing the 40-112 bytes.
  struct AlgCtx {
    DigestAlg alg;
    ossl::MdCtx ctx;
  };
  std::vector<AlgCtx> ctxs;
  auto ctx_for = [&ctxs](DigestAlg alg) -> EVP_MD_CTX* {
    for (auto& c : ctxs) {
      if (c.alg == alg) return c.ctx.get();
    }
    ctxs.push_back({alg, ossl::MdCtx(EVP_MD_CTX_new())});
    if (!ctxs.back().ctx) std::abort();  // as in common/digest.cc: allocation failure only
    return ctxs.back().ctx.get();
  };
  for (const Event& e : log.events) {
    if (e.type == kEvNoAction) {
      bool locality = mode == ReplayMode::kTpm && e.index == 0 &&
                      e.data.size() == sizeof(kStartupLocality) + 1 &&
                      std::memcmp(e.data.data(), kStartupLocality, sizeof(kStartupLocality)) == 0;
      if (locality) {
        for (const auto& a : log.algorithms) {
          if (DigestAlgFromTpm(a.alg_id)) reg(a.alg_id, 0).back() = e.data.back();
        }
      }
      continue;
    }
    for (const EventDigest& d : e.digests) {
      auto alg = DigestAlgFromTpm(d.alg_id);
      if (!alg) continue;
      Bytes& value = reg(d.alg_id, e.index);
      // value = H(value || digest), written in place (value has the digest's size).
      unsigned int n = 0;
      EVP_MD_CTX* ctx = ctx_for(*alg);
      if (EVP_DigestInit_ex2(ctx, EvpMd(*alg), nullptr) != 1 ||
          EVP_DigestUpdate(ctx, value.data(), value.size()) != 1 ||
          EVP_DigestUpdate(ctx, d.digest.data(), d.digest.size()) != 1 ||
          EVP_DigestFinal_ex(ctx, value.data(), &n) != 1 || n != value.size()) {
        std::abort();
      }
    }
  }
  return regs;
}

}  // namespace cvm::tcg
