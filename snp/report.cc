#include "snp/report.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

namespace cvm::snp {
namespace {

template <size_t N>
void CopyOut(ByteSpan data, size_t offset, std::array<uint8_t, N>& out) {
  std::memcpy(out.data(), data.data() + offset, N);
}
template <size_t N>
void CopyIn(std::span<uint8_t> data, size_t offset, const std::array<uint8_t, N>& in) {
  std::memcpy(data.data() + offset, in.data(), N);
}

std::string Hex32(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));  // NOLINT
  return buf;
}

// A reserved range must be zero (SNP ABI: "MBZ").
Status CheckZero(ByteSpan data, size_t begin, size_t end, std::string_view name) {
  for (size_t i = begin; i < end; ++i) {
    if (data[i] != 0) {
      return InvalidInput("snp report: reserved bytes " + Hex32(begin) + ".." + Hex32(end - 1) +
                          " (" + std::string(name) + ") must be zero, byte " + Hex32(i) + " is " +
                          Hex32(data[i]));
    }
  }
  return Status::Ok();
}

}  // namespace

std::string_view ProductName(Product p) {
  switch (p) {
    case Product::kMilan:
      return "Milan";
    case Product::kGenoa:
      return "Genoa";
    case Product::kTurin:
      return "Turin";
    case Product::kUnknown:
      break;
  }
  return "unknown";
}

Result<Product> ParseProduct(std::string_view name) {
  std::string lower;
  for (char c : name.substr(0, name.find('-'))) {
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (lower == "milan") return Product::kMilan;
  if (lower == "genoa") return Product::kGenoa;
  if (lower == "turin") return Product::kTurin;
  return InvalidInput("unknown AMD product '" + std::string(name) +
                      "' (expected Milan, Genoa or Turin)");
}

std::string_view SigningKeyName(SigningKey k) {
  switch (k) {
    case SigningKey::kVcek:
      return "vcek";
    case SigningKey::kVlek:
      return "vlek";
    case SigningKey::kNone:
      return "none";
  }
  return "reserved";
}

TcbParts DecodeTcb(uint64_t raw, Product product) {
  auto byte = [raw](int i) { return static_cast<uint8_t>(raw >> (8 * i)); };
  TcbParts t;
  if (UsesTurinLayout(product)) {
    t.fmc = byte(0);
    t.bootloader = byte(1);
    t.tee = byte(2);
    t.snp = byte(3);
  } else {
    t.bootloader = byte(0);
    t.tee = byte(1);
    t.snp = byte(6);
  }
  t.microcode = byte(7);
  return t;
}

uint64_t EncodeTcb(const TcbParts& t, Product product) {
  auto at = [](uint8_t v, int i) { return static_cast<uint64_t>(v) << (8 * i); };
  uint64_t raw = at(t.microcode, 7);
  if (UsesTurinLayout(product)) {
    raw |= at(t.fmc, 0) | at(t.bootloader, 1) | at(t.tee, 2) | at(t.snp, 3);
  } else {
    raw |= at(t.bootloader, 0) | at(t.tee, 1) | at(t.snp, 6);
  }
  return raw;
}

bool TcbAtLeast(const TcbParts& tcb, const TcbParts& min) {
  return tcb.fmc >= min.fmc && tcb.bootloader >= min.bootloader && tcb.tee >= min.tee &&
         tcb.snp >= min.snp && tcb.microcode >= min.microcode;
}

std::string TcbToString(const TcbParts& t, Product product) {
  std::string out;
  if (UsesTurinLayout(product)) out = "fmc=" + std::to_string(t.fmc) + " ";
  out += "bootloader=" + std::to_string(t.bootloader) + " tee=" + std::to_string(t.tee) +
         " snp=" + std::to_string(t.snp) + " microcode=" + std::to_string(t.microcode);
  return out;
}

GuestPolicy DecodePolicy(uint64_t raw) {
  auto bit = [raw](int i) { return ((raw >> i) & 1) != 0; };
  GuestPolicy p;
  p.abi_minor = static_cast<uint8_t>(raw);
  p.abi_major = static_cast<uint8_t>(raw >> 8);
  p.smt = bit(16);
  p.migrate_ma = bit(18);
  p.debug = bit(19);
  p.single_socket = bit(20);
  p.cxl_allow = bit(21);
  p.mem_aes_256_xts = bit(22);
  p.rapl_dis = bit(23);
  p.ciphertext_hiding = bit(24);
  p.page_swap_disable = bit(25);
  return p;
}

PlatformInfo DecodePlatformInfo(uint64_t raw) {
  auto bit = [raw](int i) { return ((raw >> i) & 1) != 0; };
  PlatformInfo p;
  p.smt_enabled = bit(0);
  p.tsme_enabled = bit(1);
  p.ecc_enabled = bit(2);
  p.rapl_disabled = bit(3);
  p.ciphertext_hiding_enabled = bit(4);
  p.alias_check_complete = bit(5);
  p.tio_enabled = bit(7);
  return p;
}

SignerInfo Report::Signer() const {
  SignerInfo s;
  s.author_key_en = (signer_info & 1) != 0;
  s.mask_chip_id = (signer_info & 2) != 0;
  s.signing_key = static_cast<SigningKey>((signer_info >> 2) & 7);
  return s;
}

Result<Report> ParseReport(ByteSpan d) {
  if (d.size() != kReportSize) {
    return InvalidInput("snp report: expected exactly " + std::to_string(kReportSize) +
                        " bytes, got " + std::to_string(d.size()) +
                        (d.size() < kReportSize ? " (truncated)" : " (trailing data)"));
  }
  Report r;
  r.version = LoadLe32(d, 0x000);
  if (r.version < kMinReportVersion || r.version > kMaxReportVersion) {
    return Unsupported("snp report: version " + std::to_string(r.version) +
                       " is not supported (this build understands versions " +
                       std::to_string(kMinReportVersion) + " to " +
                       std::to_string(kMaxReportVersion) + ")");
  }
  r.guest_svn = LoadLe32(d, 0x004);
  r.policy = LoadLe64(d, 0x008);
  if ((r.policy & kPolicyReservedOne) == 0) {
    return InvalidInput("snp report: POLICY bit 17 is reserved and must be 1 (policy " +
                        Hex32(r.policy) + ")");
  }
  if ((r.policy & kPolicyMbzMask) != 0) {
    return InvalidInput("snp report: POLICY bits 63:26 are reserved and must be zero (policy " +
                        Hex32(r.policy) + ")");
  }
  CopyOut(d, 0x010, r.family_id);
  CopyOut(d, 0x020, r.image_id);
  r.vmpl = LoadLe32(d, 0x030);
  r.signature_algo = LoadLe32(d, 0x034);
  r.current_tcb = LoadLe64(d, 0x038);
  r.platform_info = LoadLe64(d, 0x040);
  r.signer_info = LoadLe32(d, 0x048);
  if ((r.signer_info >> 5) != 0) {
    return InvalidInput("snp report: signer info bits 31:5 are reserved and must be zero (" +
                        Hex32(r.signer_info) + ")");
  }
  uint32_t key = (r.signer_info >> 2) & 7;
  if (key != 0 && key != 1 && key != 7) {
    return InvalidInput("snp report: SIGNING_KEY " + std::to_string(key) +
                        " is reserved (0 VCEK, 1 VLEK, 7 none)");
  }
  CVM_RETURN_IF_ERROR(CheckZero(d, 0x04C, 0x050, "after signer info"));
  CopyOut(d, 0x050, r.report_data);
  CopyOut(d, 0x090, r.measurement);
  CopyOut(d, 0x0C0, r.host_data);
  CopyOut(d, 0x0E0, r.id_key_digest);
  CopyOut(d, 0x110, r.author_key_digest);
  CopyOut(d, 0x140, r.report_id);
  CopyOut(d, 0x160, r.report_id_ma);
  r.reported_tcb = LoadLe64(d, 0x180);
  if (r.HasCpuid()) {
    r.cpuid_fam_id = d[0x188];
    r.cpuid_mod_id = d[0x189];
    r.cpuid_step = d[0x18A];
    CVM_RETURN_IF_ERROR(CheckZero(d, 0x18B, 0x1A0, "after CPUID"));
  } else {
    CVM_RETURN_IF_ERROR(CheckZero(d, 0x188, 0x1A0, "after REPORTED_TCB"));
  }
  CopyOut(d, 0x1A0, r.chip_id);
  r.committed_tcb = LoadLe64(d, 0x1E0);
  r.current_build = d[0x1E8];
  r.current_minor = d[0x1E9];
  r.current_major = d[0x1EA];
  CVM_RETURN_IF_ERROR(CheckZero(d, 0x1EB, 0x1EC, "after CURRENT_MAJOR"));
  r.committed_build = d[0x1EC];
  r.committed_minor = d[0x1ED];
  r.committed_major = d[0x1EE];
  CVM_RETURN_IF_ERROR(CheckZero(d, 0x1EF, 0x1F0, "after COMMITTED_MAJOR"));
  r.launch_tcb = LoadLe64(d, 0x1F0);
  if (r.HasMitigationVectors()) {
    r.launch_mit_vector = LoadLe64(d, 0x1F8);
    r.current_mit_vector = LoadLe64(d, 0x200);
    CVM_RETURN_IF_ERROR(CheckZero(d, 0x208, 0x2A0, "after CURRENT_MIT_VECTOR"));
  } else {
    CVM_RETURN_IF_ERROR(CheckZero(d, 0x1F8, 0x2A0, "after LAUNCH_TCB"));
  }
  CopyOut(d, 0x2A0, r.signature_r);
  CopyOut(d, 0x2E8, r.signature_s);
  CVM_RETURN_IF_ERROR(CheckZero(d, 0x330, kReportSize, "after the signature's S"));
  return r;
}

Bytes SerializeReport(const Report& r) {
  Bytes out(kReportSize, 0);
  std::span<uint8_t> d(out);
  StoreLe32(d, 0x000, r.version);
  StoreLe32(d, 0x004, r.guest_svn);
  StoreLe64(d, 0x008, r.policy);
  CopyIn(d, 0x010, r.family_id);
  CopyIn(d, 0x020, r.image_id);
  StoreLe32(d, 0x030, r.vmpl);
  StoreLe32(d, 0x034, r.signature_algo);
  StoreLe64(d, 0x038, r.current_tcb);
  StoreLe64(d, 0x040, r.platform_info);
  StoreLe32(d, 0x048, r.signer_info);
  CopyIn(d, 0x050, r.report_data);
  CopyIn(d, 0x090, r.measurement);
  CopyIn(d, 0x0C0, r.host_data);
  CopyIn(d, 0x0E0, r.id_key_digest);
  CopyIn(d, 0x110, r.author_key_digest);
  CopyIn(d, 0x140, r.report_id);
  CopyIn(d, 0x160, r.report_id_ma);
  StoreLe64(d, 0x180, r.reported_tcb);
  if (r.HasCpuid()) {
    d[0x188] = r.cpuid_fam_id;
    d[0x189] = r.cpuid_mod_id;
    d[0x18A] = r.cpuid_step;
  }
  CopyIn(d, 0x1A0, r.chip_id);
  StoreLe64(d, 0x1E0, r.committed_tcb);
  d[0x1E8] = r.current_build;
  d[0x1E9] = r.current_minor;
  d[0x1EA] = r.current_major;
  d[0x1EC] = r.committed_build;
  d[0x1ED] = r.committed_minor;
  d[0x1EE] = r.committed_major;
  StoreLe64(d, 0x1F0, r.launch_tcb);
  if (r.HasMitigationVectors()) {
    StoreLe64(d, 0x1F8, r.launch_mit_vector);
    StoreLe64(d, 0x200, r.current_mit_vector);
  }
  CopyIn(d, 0x2A0, r.signature_r);
  CopyIn(d, 0x2E8, r.signature_s);
  return out;
}

Product ProductFromCpuid(const Report& r) {
  if (!r.HasCpuid()) return Product::kUnknown;
  uint8_t model = r.cpuid_mod_id;
  if (r.cpuid_fam_id == 0x19) {
    if (model <= 0x0F) return Product::kMilan;
    if ((model >= 0x10 && model <= 0x1F) || (model >= 0xA0 && model <= 0xAF)) {
      return Product::kGenoa;
    }
  }
  if (r.cpuid_fam_id == 0x1A && model <= 0x11) return Product::kTurin;
  return Product::kUnknown;
}

ByteSpan HwId(const Report& r, Product product) {
  ByteSpan chip(r.chip_id);
  return UsesTurinLayout(product) ? chip.first(8) : chip;
}

}  // namespace cvm::snp
