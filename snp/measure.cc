#include "snp/measure.h"

#include <openssl/evp.h>

#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "common/digest.h"
#include "common/file_util.h"

namespace cvm::snp {
namespace {

constexpr size_t kPageInfoSize = 0x70;
constexpr uint64_t kMaxFirmwareSize = 64 << 20;

// QEMU's SEV hash-table GUIDs (target/i386/sev.c).
constexpr std::string_view kHashTableHeaderGuid = "9438d606-4f22-4cc9-b479-a793d411fd21";
constexpr std::string_view kKernelEntryGuid = "4de79437-abd2-427f-b835-d5b172d2045b";
constexpr std::string_view kInitrdEntryGuid = "44baf731-3a2f-4bd7-9af1-41e29169781d";
constexpr std::string_view kCmdlineEntryGuid = "97d02dd8-bd20-4c94-aa78-e7714d36ab2a";
constexpr size_t kHashEntrySize = 16 + 2 + 32;
constexpr size_t kHashTableSize = 16 + 2 + 3 * kHashEntrySize;  // 168
constexpr size_t kPaddedHashTableSize = (kHashTableSize + 15) & ~size_t{15};

// SHA-384 into a caller's buffer with a context and digest fetched once per thread: the launch
// digest hashes two inputs per page, and a fresh context (and implicit fetch) per call costs more
// than hashing the 112-byte PAGE_INFO itself.
void Sha384Into(ByteSpan data, uint8_t* out) {
  struct Ctx {
    EVP_MD* md = EVP_MD_fetch(nullptr, "SHA384", nullptr);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Ctx() {
      EVP_MD_CTX_free(ctx);
      EVP_MD_free(md);
    }
  };
  thread_local Ctx c;
  unsigned int n = 0;
  // As in common/digest.cc: these fail only on allocation failure.
  if (c.md == nullptr || c.ctx == nullptr || EVP_DigestInit_ex2(c.ctx, c.md, nullptr) != 1 ||
      EVP_DigestUpdate(c.ctx, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(c.ctx, out, &n) != 1 || n != kLaunchDigestSize) {
    std::abort();
  }
}

std::string Hex32(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));  // NOLINT
  return buf;
}

Result<std::array<uint8_t, 32>> Sha256File(const std::string& path) {
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    return ErrnoStatus(errno, path);
  }
  Hasher h(DigestAlg::kSha256);
  std::vector<uint8_t> buf(1 << 16);
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0)
    h.Update(ByteSpan(buf.data(), n));
  if (std::ferror(f.get())) return IoError(path + ": read error");
  Bytes d = h.Finish();
  std::array<uint8_t, 32> out{};
  std::copy(d.begin(), d.end(), out.begin());
  return out;
}

void PutEntry(Bytes& t, size_t off, std::string_view guid, const std::array<uint8_t, 32>& hash) {
  Guid g = GuidFromString(guid);
  std::copy(g.begin(), g.end(), t.begin() + static_cast<std::ptrdiff_t>(off));
  StoreLe16(t, off + 16, kHashEntrySize);
  std::copy(hash.begin(), hash.end(), t.begin() + static_cast<std::ptrdiff_t>(off + 18));
}

// The metadata sections of `image`, measured as QEMU (or EC2/GCE) adds them.
Status AddMetadataPages(LaunchDigest& ld, const FirmwareImage& image,
                        const std::optional<KernelHashes>& kernel, Vmm vmm) {
  if (kernel && !image.HasSection(MetadataSectionType::kSnpKernelHashes)) {
    return InvalidInput(
        "Kernel specified but OVMF metadata doesn't include SNP_KERNEL_HASHES section: this "
        "firmware cannot measure a kernel, initrd or command line (build OVMF from "
        "OvmfPkg/AmdSev/AmdSevX64.dsc, or boot without --kernel)");
  }
  for (size_t i = 0; i < image.sections().size(); ++i) {
    const MetadataSection& s = image.sections()[i];
    const std::string where = "SEV metadata section " + std::to_string(i) + " (" +
                              std::string(MetadataSectionName(s.type)) + ", GPA " + Hex32(s.gpa) +
                              ", size " + Hex32(s.size) + ")";
    if (s.gpa % kPageSize != 0) return InvalidInput(where + ": GPA is not page-aligned");
    auto pages = [&]() -> Status {
      if (s.size == 0 || s.size % kPageSize != 0) {
        return InvalidInput(where + ": size is not a non-zero whole number of pages");
      }
      return Status::Ok();
    };
    switch (static_cast<MetadataSectionType>(s.type)) {
      case MetadataSectionType::kSnpSecMem:
        CVM_RETURN_IF_ERROR(pages());
        ld.AddEmptyPages(vmm == Vmm::kGce ? PageType::kUnmeasured : PageType::kZero, s.gpa, s.size);
        break;
      case MetadataSectionType::kSnpSecrets:
        ld.AddEmptyPages(PageType::kSecrets, s.gpa, kPageSize);
        break;
      case MetadataSectionType::kCpuid:
        if (vmm != Vmm::kEc2) ld.AddEmptyPages(PageType::kCpuid, s.gpa, kPageSize);
        break;
      case MetadataSectionType::kSvsmCaa:
        CVM_RETURN_IF_ERROR(pages());
        ld.AddEmptyPages(PageType::kZero, s.gpa, s.size);
        break;
      case MetadataSectionType::kSnpKernelHashes:
        CVM_RETURN_IF_ERROR(pages());
        if (kernel) {
          if (s.size != kPageSize) return InvalidInput(where + ": expected exactly one page");
          std::optional<uint32_t> table_gpa = image.SevHashTableGpa();
          if (!table_gpa) {
            return InvalidInput(where + ": the footer table has no SEV hash-table address");
          }
          size_t offset = *table_gpa % kPageSize;
          if (offset > kPageSize - kPaddedHashTableSize) {
            return InvalidInput(where + ": the SEV hash table at " + Hex32(*table_gpa) +
                                " does not fit in its page");
          }
          Bytes page(kPageSize, 0);
          Bytes table = SevHashTable(*kernel);
          std::copy(table.begin(), table.end(), page.begin() + static_cast<std::ptrdiff_t>(offset));
          ld.AddNormalPages(s.gpa, page);
        } else {
          ld.AddEmptyPages(PageType::kZero, s.gpa, s.size);
        }
        break;
      default:
        return InvalidInput(where + ": unknown section type " + std::to_string(s.type));
    }
  }
  if (vmm == Vmm::kEc2) {
    // EC2 adds the CPUID page after every other metadata page.
    for (const MetadataSection& s : image.sections()) {
      if (s.type == static_cast<uint32_t>(MetadataSectionType::kCpuid)) {
        ld.AddEmptyPages(PageType::kCpuid, s.gpa, kPageSize);
      }
    }
  }
  return Status::Ok();
}

Status CheckVcpus(uint32_t vcpus) {
  if (vcpus == 0 || vcpus > kMaxVcpus) {
    return InvalidInput("vCPU count " + std::to_string(vcpus) + " is not in 1.." +
                        std::to_string(kMaxVcpus));
  }
  return Status::Ok();
}

// BSP and AP VMSA pages for a firmware-started guest (SEV-ES and SNP).
struct VmsaPages {
  Bytes bsp, ap;  // ap is empty when there is a single vCPU
};
Result<VmsaPages> FirmwareVmsas(const FirmwareImage& ovmf, uint32_t vcpus,
                                std::optional<uint32_t> vcpu_sig, Vmm vmm, uint64_t features) {
  CVM_RETURN_IF_ERROR(CheckVcpus(vcpus));
  if (vmm == Vmm::kQemu && !vcpu_sig) {
    return InvalidInput(
        "QEMU puts the vCPU signature in every VMSA: give a vCPU type or signature");
  }
  CVM_ASSIGN_OR_RETURN(uint32_t ap_eip, ovmf.SevEsResetEip());
  const uint32_t sig = vcpu_sig.value_or(0);
  VmsaPages out;
  out.bsp = BuildVmsa(vmm, kBspResetEip, features, sig);
  if (vcpus > 1) {
    if (ap_eip == 0) {
      return InvalidInput(
          "firmware: the SEV-ES reset block gives no AP entry point, so only one "
          "vCPU can start");
    }
    out.ap = BuildVmsa(vmm, ap_eip, features, sig);
  }
  return out;
}

}  // namespace

void LaunchDigest::Update(PageType type, uint64_t gpa, ByteSpan contents) {
  assert(contents.size() == kLaunchDigestSize);
  std::array<uint8_t, kPageInfoSize> info{};
  std::copy(digest_.begin(), digest_.end(), info.begin());
  std::copy(contents.begin(), contents.end(), info.begin() + 0x30);
  StoreLe16(info, 0x60, kPageInfoSize);
  info[0x62] = static_cast<uint8_t>(type);
  // 0x63 IMI_PAGE, 0x64..0x66 VMPL3..1 permissions, 0x67 reserved: all zero for a VMM launch.
  StoreLe64(info, 0x68, gpa);
  Sha384Into(info, digest_.data());
}

void LaunchDigest::AddNormalPages(uint64_t gpa, ByteSpan data) {
  assert(data.size() % kPageSize == 0);
  std::array<uint8_t, kLaunchDigestSize> page{};
  for (size_t off = 0; off < data.size(); off += kPageSize) {
    Sha384Into(data.subspan(off, kPageSize), page.data());
    Update(PageType::kNormal, gpa + off, page);
  }
}

void LaunchDigest::AddEmptyPages(PageType type, uint64_t gpa, uint64_t size) {
  assert(size % kPageSize == 0);
  static constexpr std::array<uint8_t, kLaunchDigestSize> kZero{};
  for (uint64_t off = 0; off < size; off += kPageSize) Update(type, gpa + off, kZero);
}

void LaunchDigest::AddVmsaPage(ByteSpan page_digest) {
  Update(PageType::kVmsa, kVmsaGpa, page_digest);
}

Result<KernelHashes> HashKernelFiles(const std::string& kernel, const std::string& initrd,
                                     const std::optional<std::string>& append) {
  KernelHashes h;
  CVM_ASSIGN_OR_RETURN(h.kernel, Sha256File(kernel));
  if (initrd.empty()) {
    Bytes d = Sha256({});
    std::copy(d.begin(), d.end(), h.initrd.begin());
  } else {
    CVM_ASSIGN_OR_RETURN(h.initrd, Sha256File(initrd));
  }
  std::string cmdline = append.value_or("");
  Bytes d = Sha256(ByteSpan(reinterpret_cast<const uint8_t*>(cmdline.c_str()), cmdline.size() + 1));
  std::copy(d.begin(), d.end(), h.cmdline.begin());
  return h;
}

Bytes SevHashTable(const KernelHashes& hashes) {
  Bytes t(kPaddedHashTableSize, 0);
  Guid g = GuidFromString(kHashTableHeaderGuid);
  std::copy(g.begin(), g.end(), t.begin());
  StoreLe16(t, 16, kHashTableSize);
  PutEntry(t, 18, kCmdlineEntryGuid, hashes.cmdline);
  PutEntry(t, 18 + kHashEntrySize, kInitrdEntryGuid, hashes.initrd);
  PutEntry(t, 18 + 2 * kHashEntrySize, kKernelEntryGuid, hashes.kernel);
  return t;
}

Bytes SnpOvmfHash(const FirmwareImage& ovmf) {
  LaunchDigest ld;
  ld.AddNormalPages(ovmf.gpa(), ovmf.data());
  return Bytes(ld.digest().begin(), ld.digest().end());
}

Result<Bytes> SnpLaunchDigest(const SnpLaunch& launch) {
  if (launch.ovmf == nullptr) return InvalidInput("no firmware (OVMF) image given");
  const FirmwareImage& ovmf = *launch.ovmf;
  LaunchDigest ld;
  if (launch.svsm != nullptr) {
    if (launch.vmm != Vmm::kQemu) return InvalidInput("SVSM launches are defined for QEMU only");
    if (launch.kernel) {
      return InvalidInput("a kernel cannot be measured with an SVSM (OVMF loads it unmeasured)");
    }
    if (launch.ovmf_hash)
      return InvalidInput("a precomputed OVMF hash cannot be used with an SVSM");
    CVM_RETURN_IF_ERROR(CheckVcpus(launch.vcpus));
    if (!launch.vcpu_sig) return InvalidInput("an SVSM launch needs a vCPU type or signature");
    const FirmwareImage& svsm = *launch.svsm;
    if (launch.vars_size % kPageSize != 0 || launch.vars_size > ovmf.gpa() ||
        svsm.data().size() > ovmf.gpa() - launch.vars_size) {
      return InvalidInput("the SVSM (" + std::to_string(svsm.data().size()) +
                          " bytes) and OVMF variables (" + std::to_string(launch.vars_size) +
                          " bytes, a whole number of pages) do not fit below the OVMF");
    }
    if (svsm.gpa() + svsm.data().size() != ovmf.gpa() - launch.vars_size) {
      return InvalidInput(
          "the SVSM image must be parsed to end at the OVMF's GPA minus the "
          "variable store (" +
          Hex32(ovmf.gpa() - launch.vars_size) + ")");
    }
    CVM_ASSIGN_OR_RETURN(uint64_t eip, svsm.SvsmEntryPoint());
    ld.AddNormalPages(ovmf.gpa(), ovmf.data());
    ld.AddNormalPages(svsm.gpa(), svsm.data());
    CVM_RETURN_IF_ERROR(AddMetadataPages(ld, svsm, std::nullopt, Vmm::kQemu));
    Bytes page = Sha384(BuildSvsmVmsa(eip, *launch.vcpu_sig));
    for (uint32_t i = 0; i < launch.vcpus; ++i) ld.AddVmsaPage(page);
    return Bytes(ld.digest().begin(), ld.digest().end());
  }
  if ((launch.guest_features & 0x1) == 0) {
    return InvalidInput("guest features " + Hex32(launch.guest_features) +
                        " lack bit 0 (SNPActive), which every SNP VMSA carries");
  }
  if (launch.ovmf_hash) {
    ld = LaunchDigest(*launch.ovmf_hash);
  } else {
    ld.AddNormalPages(ovmf.gpa(), ovmf.data());
  }
  CVM_RETURN_IF_ERROR(AddMetadataPages(ld, ovmf, launch.kernel, launch.vmm));
  CVM_ASSIGN_OR_RETURN(VmsaPages vmsas, FirmwareVmsas(ovmf, launch.vcpus, launch.vcpu_sig,
                                                      launch.vmm, launch.guest_features));
  // The pages are the same for every AP: hash each once.
  ld.AddVmsaPage(Sha384(vmsas.bsp));
  if (launch.vcpus > 1) {
    Bytes ap = Sha384(vmsas.ap);
    for (uint32_t i = 1; i < launch.vcpus; ++i) ld.AddVmsaPage(ap);
  }
  return Bytes(ld.digest().begin(), ld.digest().end());
}

Result<FirmwareImage> LoadFirmware(const std::string& path, uint64_t end_gpa,
                                   std::string_view name) {
  CVM_ASSIGN_OR_RETURN(Bytes data, ReadFile(path, kMaxFirmwareSize));
  return FirmwareImage::Parse(std::move(data), end_gpa, name).WithContext(path);
}

Result<Bytes> SevLaunchDigest(const FirmwareImage& ovmf,
                              const std::optional<KernelHashes>& kernel) {
  Hasher h(DigestAlg::kSha256);
  h.Update(ovmf.data());
  if (kernel) {
    if (!ovmf.SevHashTableGpa()) {
      return InvalidInput(
          "Kernel specified but OVMF doesn't support kernel/initrd/cmdline measurement: the "
          "firmware's footer table has no SEV hash-table address");
    }
    h.Update(SevHashTable(*kernel));
  }
  return h.Finish();
}

Result<Bytes> SevEsLaunchDigest(const FirmwareImage& ovmf,
                                const std::optional<KernelHashes>& kernel, uint32_t vcpus,
                                std::optional<uint32_t> vcpu_sig, Vmm vmm) {
  CVM_ASSIGN_OR_RETURN(VmsaPages vmsas, FirmwareVmsas(ovmf, vcpus, vcpu_sig, vmm, 0));
  if (kernel && !ovmf.SevHashTableGpa()) {
    return InvalidInput(
        "Kernel specified but OVMF doesn't support kernel/initrd/cmdline measurement: the "
        "firmware's footer table has no SEV hash-table address");
  }
  Hasher h(DigestAlg::kSha256);
  h.Update(ovmf.data());
  if (kernel) h.Update(SevHashTable(*kernel));
  h.Update(vmsas.bsp);
  for (uint32_t i = 1; i < vcpus; ++i) h.Update(vmsas.ap);
  return h.Finish();
}

}  // namespace cvm::snp
