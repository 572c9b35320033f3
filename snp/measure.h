// The launch measurement an AMD SEV, SEV-ES or SEV-SNP guest will report, computed from the images
// the VMM loads, so an image build can publish it before any VM runs.
//
// SEV-SNP (AMD SEV-SNP Firmware ABI, SNP_LAUNCH_UPDATE, "PAGE_INFO"): the launch digest starts as
// 48 zero bytes; every page the VMM adds replaces it by
//   SHA-384(DIGEST_CUR[48] | CONTENTS[48] | LENGTH u16 = 0x70 | PAGE_TYPE u8 | IMI_PAGE u8 |
//           VMPL3_PERMS u8 | VMPL2_PERMS u8 | VMPL1_PERMS u8 | reserved u8 | GPA u64)
// where CONTENTS is the SHA-384 of the page for NORMAL and VMSA pages and zero otherwise. QEMU
// adds, in order: every page of the firmware (NORMAL, ending at 4 GiB); for each section of the
// firmware's SEV metadata (ovmf.h), in the order listed: SNP_SEC_MEM as ZERO pages (UNMEASURED on
// GCE), SNP_SECRETS as a SECRETS page, CPUID as a CPUID page (EC2 adds it after all other
// sections), SVSM_CAA as ZERO pages, SNP_KERNEL_HASHES as one NORMAL page holding the SEV hash
// table at the offset of the firmware's hash-table GPA (ZERO when no kernel is given); then one
// VMSA page per vCPU (GPA 0xFFFFFFFFF000): the BSP's at the reset vector, the APs' at the SEV-ES
// reset block's address (vmsa.h).
//
// SEV and SEV-ES (LAUNCH_UPDATE_DATA / LAUNCH_UPDATE_VMSA): SHA-256 over the firmware, then the
// padded SEV hash table when a kernel is given, then (SEV-ES) one VMSA page per vCPU.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "common/bytes.h"
#include "snp/ovmf.h"
#include "snp/vmsa.h"

namespace cvm::snp {

inline constexpr size_t kLaunchDigestSize = 48;
// The GPA SNP_LAUNCH_UPDATE records for VMSA pages: (u64)-1, page-aligned, bits above 51 clear.
inline constexpr uint64_t kVmsaGpa = 0xFFFFFFFFF000ULL;
// An upper bound on vCPUs (SNP hosts have at most a few hundred threads).
inline constexpr uint32_t kMaxVcpus = 16384;

// SNP_LAUNCH_UPDATE page types (ABI table "PAGE_TYPE").
enum class PageType : uint8_t {
  kNormal = 1,
  kVmsa = 2,
  kZero = 3,
  kUnmeasured = 4,
  kSecrets = 5,
  kCpuid = 6,
};

// The running SNP launch digest. Not thread-safe; cheap to copy.
class LaunchDigest {
 public:
  // Starts from 48 zero bytes, or from `seed` (a digest computed earlier, e.g. the firmware's).
  LaunchDigest() = default;
  explicit LaunchDigest(const std::array<uint8_t, kLaunchDigestSize>& seed) : digest_(seed) {}

  // One PAGE_INFO step. REQUIRES: contents.size() == 48.
  void Update(PageType type, uint64_t gpa, ByteSpan contents);
  // NORMAL pages with the SHA-384 of each page. REQUIRES: data.size() % 4096 == 0.
  void AddNormalPages(uint64_t gpa, ByteSpan data);
  // ZERO, UNMEASURED, SECRETS or CPUID pages (zero contents) covering `size` bytes from `gpa`.
  // REQUIRES: size % 4096 == 0.
  void AddEmptyPages(PageType type, uint64_t gpa, uint64_t size);
  // A VMSA page, by the SHA-384 of its 4096 bytes.
  void AddVmsaPage(ByteSpan page_digest);

  const std::array<uint8_t, kLaunchDigestSize>& digest() const { return digest_; }

 private:
  std::array<uint8_t, kLaunchDigestSize> digest_{};
};

// The SHA-256 entries of QEMU's SEV hash table for measured direct boot.
struct KernelHashes {
  std::array<uint8_t, 32> kernel{}, initrd{}, cmdline{};
};
// Hashes a kernel, an optional initrd (absent: empty input) and an optional command line (hashed
// as its bytes plus a terminating NUL; absent: a single NUL), streaming the files. kNotFound /
// kIoError naming the file.
Result<KernelHashes> HashKernelFiles(const std::string& kernel, const std::string& initrd = "",
                                     const std::optional<std::string>& append = std::nullopt);
// The SEV hash table as QEMU writes it, padded to a multiple of 16 bytes (176 bytes): header GUID
// 9438d606-..., u16 length 168, then cmdline, initrd and kernel entries (GUID, u16 50, SHA-256).
Bytes SevHashTable(const KernelHashes& hashes);

// What an SNP launch loads. Fields are documented with their defaults.
struct SnpLaunch {
  // The firmware image (OVMF.fd), mapped to end at 4 GiB. Required.
  const FirmwareImage* ovmf = nullptr;
  // Number of vCPUs, 1..kMaxVcpus.
  uint32_t vcpus = 1;
  // CPUID signature QEMU puts in RDX of every VMSA. Required for QEMU; EC2 and GCE put a fixed
  // value there and ignore it.
  std::optional<uint32_t> vcpu_sig;
  Vmm vmm = Vmm::kQemu;
  // SEV_FEATURES of every VMSA (bit 0 SNPActive must be set).
  uint64_t guest_features = 0x1;
  // Measured direct boot: the SEV hash table of kernel, initrd and command line. Empty: no kernel
  // (the kernel-hashes page, if any, is a zero page).
  std::optional<KernelHashes> kernel;
  // The digest of the firmware pages computed earlier (SnpOvmfHash); the chain starts from it
  // instead of hashing `ovmf`'s pages, which is still read for its metadata and reset block.
  std::optional<std::array<uint8_t, kLaunchDigestSize>> ovmf_hash;
  // Coconut SVSM: the SVSM image, loaded just below the OVMF and its variable store of
  // `vars_size` bytes. The SVSM's own metadata is measured and every vCPU starts in the SVSM.
  // QEMU only; no kernel or precomputed OVMF hash with it.
  const FirmwareImage* svsm = nullptr;
  uint64_t vars_size = 0;
};

// The 48-byte launch digest (MEASUREMENT) of `launch`. kInvalidInput naming the problem for an
// unusable combination: no vCPU signature for QEMU, vCPUs out of range, SNPActive clear, a kernel
// with a firmware that has no SNP_KERNEL_HASHES section ("Kernel specified but OVMF metadata
// doesn't include SNP_KERNEL_HASHES section"), a metadata section of an unknown type, not
// page-aligned or of the wrong size, an image without an SEV-ES reset block, SVSM with another
// VMM or a kernel.
Result<Bytes> SnpLaunchDigest(const SnpLaunch& launch);

// The digest of the firmware pages alone (what SnpLaunch::ovmf_hash takes).
Bytes SnpOvmfHash(const FirmwareImage& ovmf);

// Loads a firmware file (at most 64 MiB) and parses it; errors name the path.
Result<FirmwareImage> LoadFirmware(const std::string& path, uint64_t end_gpa = kFourGiB,
                                   std::string_view name = "firmware");

// SEV (no VMSA) and SEV-ES launch digests: SHA-256, 32 bytes. A kernel needs a firmware with a
// SEV hash-table entry (kInvalidInput otherwise).
Result<Bytes> SevLaunchDigest(const FirmwareImage& ovmf, const std::optional<KernelHashes>& kernel);
Result<Bytes> SevEsLaunchDigest(const FirmwareImage& ovmf,
                                const std::optional<KernelHashes>& kernel, uint32_t vcpus,
                                std::optional<uint32_t> vcpu_sig, Vmm vmm = Vmm::kQemu);

}  // namespace cvm::snp
