// The SEV-SNP ATTESTATION_REPORT (SEV-SNP ABI spec, table "ATTESTATION_REPORT Structure"; field
// offsets as in go-sev-guest abi/abi.go and virtee/sev snp.rs): parsing, serializing, and the
// decoded views of its bit fields. No I/O.
//
// Layout (1184 bytes, little-endian):
//   0x000 version  0x004 guest_svn  0x008 policy  0x010 family_id[16]  0x020 image_id[16]
//   0x030 vmpl  0x034 signature_algo  0x038 current_tcb  0x040 platform_info  0x048 signer info
//   0x04C MBZ  0x050 report_data[64]  0x090 measurement[48]  0x0C0 host_data[32]
//   0x0E0 id_key_digest[48]  0x110 author_key_digest[48]  0x140 report_id[32]
//   0x160 report_id_ma[32]  0x180 reported_tcb  0x188 cpuid fam/mod/step (v3+; MBZ in v2)
//   0x18B..0x1A0 MBZ  0x1A0 chip_id[64]  0x1E0 committed_tcb  0x1E8 current build/minor/major
//   0x1EB MBZ  0x1EC committed build/minor/major  0x1EF MBZ  0x1F0 launch_tcb
//   0x1F8 launch_mit_vector (v5; MBZ before)  0x200 current_mit_vector (v5; MBZ before)
//   0x208..0x2A0 MBZ  0x2A0 signature: r[72] LE, s[72] LE, MBZ to 0x4A0.
// The signature covers bytes [0, 0x2A0).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"

namespace cvm::snp {

inline constexpr size_t kReportSize = 0x4A0;
inline constexpr size_t kSignedSize = 0x2A0;
inline constexpr size_t kSignatureOffset = 0x2A0;
inline constexpr size_t kSignatureComponentSize = 72;  // r and s, little-endian, zero-extended
inline constexpr uint32_t kSignatureAlgoEcdsaP384Sha384 = 1;
// The oldest and newest report versions this build understands.
inline constexpr uint32_t kMinReportVersion = 2;
inline constexpr uint32_t kMaxReportVersion = 5;

// AMD EPYC generations that run SEV-SNP.
enum class Product { kUnknown, kMilan, kGenoa, kTurin };

// "Milan", "Genoa", "Turin" (the KDS path component); "unknown".
std::string_view ProductName(Product p);
// Parses a product name as AMD writes it ("Milan", "Milan-B0", "genoa"; case-insensitive,
// stepping suffix ignored). kInvalidInput for anything else.
Result<Product> ParseProduct(std::string_view name);
// Turin and later lay TCB_VERSION out with an FMC byte first, and use an 8-byte hwID.
inline bool UsesTurinLayout(Product p) { return p == Product::kTurin; }

// Which key signed the report (signer info bits 4:2).
enum class SigningKey : uint8_t { kVcek = 0, kVlek = 1, kNone = 7 };
std::string_view SigningKeyName(SigningKey k);  // "vcek", "vlek", "none"

// TCB_VERSION split into security patch levels. Milan/Genoa: byte 0 boot loader, 1 TEE,
// 6 SNP, 7 microcode (bytes 2-5 reserved; fmc is 0). Turin: byte 0 FMC, 1 boot loader, 2 TEE,
// 3 SNP, 7 microcode (bytes 4-6 reserved).
struct TcbParts {
  uint8_t fmc = 0;
  uint8_t bootloader = 0;
  uint8_t tee = 0;
  uint8_t snp = 0;
  uint8_t microcode = 0;
  friend bool operator==(const TcbParts&, const TcbParts&) = default;
};
TcbParts DecodeTcb(uint64_t raw, Product product);
uint64_t EncodeTcb(const TcbParts& parts, Product product);
// True when every component of `tcb` is >= the same component of `min`.
bool TcbAtLeast(const TcbParts& tcb, const TcbParts& min);
// "bootloader=3 tee=0 snp=8 microcode=115" (with "fmc=N " first for Turin).
std::string TcbToString(const TcbParts& parts, Product product);

// Guest POLICY (u64 at 0x08).
struct GuestPolicy {
  uint8_t abi_minor = 0;
  uint8_t abi_major = 0;
  bool smt = false;                // bit 16: SMT allowed
  bool migrate_ma = false;         // bit 18
  bool debug = false;              // bit 19
  bool single_socket = false;      // bit 20
  bool cxl_allow = false;          // bit 21
  bool mem_aes_256_xts = false;    // bit 22
  bool rapl_dis = false;           // bit 23
  bool ciphertext_hiding = false;  // bit 24
  bool page_swap_disable = false;  // bit 25
};
inline constexpr uint64_t kPolicyReservedOne = uint64_t{1} << 17;
inline constexpr uint64_t kPolicyMbzMask = ~((uint64_t{1} << 26) - 1);  // bits 63:26
GuestPolicy DecodePolicy(uint64_t raw);

// PLATFORM_INFO (u64 at 0x40). Unknown bits are kept in the raw value and not rejected (real
// Turin parts set bit 6).
struct PlatformInfo {
  bool smt_enabled = false;                // bit 0
  bool tsme_enabled = false;               // bit 1
  bool ecc_enabled = false;                // bit 2
  bool rapl_disabled = false;              // bit 3
  bool ciphertext_hiding_enabled = false;  // bit 4
  bool alias_check_complete = false;       // bit 5
  bool tio_enabled = false;                // bit 7
};
PlatformInfo DecodePlatformInfo(uint64_t raw);

// Signer info (u32 at 0x48).
struct SignerInfo {
  bool author_key_en = false;  // bit 0
  bool mask_chip_id = false;   // bit 1
  SigningKey signing_key = SigningKey::kVcek;
};

// Every field of a report, raw. Byte arrays are exactly as in the report.
struct Report {
  uint32_t version = 3;
  uint32_t guest_svn = 0;
  uint64_t policy = kPolicyReservedOne;
  std::array<uint8_t, 16> family_id{};
  std::array<uint8_t, 16> image_id{};
  uint32_t vmpl = 0;
  uint32_t signature_algo = kSignatureAlgoEcdsaP384Sha384;
  uint64_t current_tcb = 0;
  uint64_t platform_info = 0;
  uint32_t signer_info = 0;  // raw; see Signer()
  std::array<uint8_t, 64> report_data{};
  std::array<uint8_t, 48> measurement{};
  std::array<uint8_t, 32> host_data{};
  std::array<uint8_t, 48> id_key_digest{};
  std::array<uint8_t, 48> author_key_digest{};
  std::array<uint8_t, 32> report_id{};
  std::array<uint8_t, 32> report_id_ma{};
  uint64_t reported_tcb = 0;
  uint8_t cpuid_fam_id = 0;  // v3+
  uint8_t cpuid_mod_id = 0;  // v3+
  uint8_t cpuid_step = 0;    // v3+
  std::array<uint8_t, 64> chip_id{};
  uint64_t committed_tcb = 0;
  uint8_t current_build = 0;
  uint8_t current_minor = 0;
  uint8_t current_major = 0;
  uint8_t committed_build = 0;
  uint8_t committed_minor = 0;
  uint8_t committed_major = 0;
  uint64_t launch_tcb = 0;
  uint64_t launch_mit_vector = 0;                              // v5
  uint64_t current_mit_vector = 0;                             // v5
  std::array<uint8_t, kSignatureComponentSize> signature_r{};  // little-endian
  std::array<uint8_t, kSignatureComponentSize> signature_s{};  // little-endian

  bool HasCpuid() const { return version >= 3; }
  bool HasMitigationVectors() const { return version >= 5; }
  SignerInfo Signer() const;
  friend bool operator==(const Report&, const Report&) = default;
};

// Parses a raw report. Requires exactly kReportSize bytes (kInvalidInput naming the size
// otherwise), a version in [kMinReportVersion, kMaxReportVersion] (kUnsupported for newer or
// older versions rather than misreading them), every must-be-zero range zero, POLICY bit 17 set
// and POLICY bits 63:26 clear, and a defined SIGNING_KEY; kInvalidInput naming the field
// otherwise. Does not check the signature.
Result<Report> ParseReport(ByteSpan data);

// The exact 1184 bytes of `report` (reserved ranges zero). ParseReport(SerializeReport(r)) == r
// for any report ParseReport accepts.
Bytes SerializeReport(const Report& report);

// The product from the report alone: from CPUID_FAM_ID/CPUID_MOD_ID on version 3+ (family 0x19
// model 0x00-0x0F Milan, 0x10-0x1F or 0xA0-0xAF Genoa; family 0x1A model 0x00-0x11 Turin),
// otherwise kUnknown. Version 2 reports do not say; use the certificate or the caller's word.
Product ProductFromCpuid(const Report& report);

// The bytes that identify the chip to AMD KDS and in the VCEK's hwID: all 64 bytes of CHIP_ID, or
// the first 8 on Turin.
ByteSpan HwId(const Report& report, Product product);

}  // namespace cvm::snp
