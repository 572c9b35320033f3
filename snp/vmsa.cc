#include "snp/vmsa.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <utility>

namespace cvm::snp {
namespace {

// Offsets in the save area (AMD APM vol. 2 table B-4, "VMSA layout, state save area").
constexpr size_t kEs = 0x000, kCs = 0x010, kSs = 0x020, kDs = 0x030, kFs = 0x040, kGs = 0x050;
constexpr size_t kGdtr = 0x060, kLdtr = 0x070, kIdtr = 0x080, kTr = 0x090;
constexpr size_t kEfer = 0x0d0, kCr4 = 0x148, kCr0 = 0x158, kDr7 = 0x160, kDr6 = 0x168;
constexpr size_t kRflags = 0x170, kRip = 0x178, kGPat = 0x268, kRdx = 0x310;
constexpr size_t kSevFeatures = 0x3b0, kXcr0 = 0x3e8, kMxcsr = 0x408, kX87Fcw = 0x410;

// Register values after INIT as KVM sets them.
constexpr uint64_t kEferSvme = 0x1000;  // KVM keeps EFER.SVME set for SEV-ES guests
constexpr uint64_t kCr4Mce = 0x40;
constexpr uint64_t kCr0Et = 0x10;
constexpr uint64_t kDr7Reset = 0x400, kDr6Reset = 0xffff0ff0, kRflagsReset = 0x2;
constexpr uint64_t kPatReset = 0x0007040600070406ULL;  // APM vol. 2 section A.3
constexpr uint64_t kXcr0Reset = 0x1;
constexpr uint32_t kMxcsrReset = 0x1f80;
constexpr uint16_t kFcwReset = 0x37f;

// A segment register: u16 selector, u16 attributes, u32 limit, u64 base.
void Segment(std::span<uint8_t> v, size_t off, uint16_t selector, uint16_t attrib, uint32_t limit,
             uint64_t base) {
  StoreLe16(v, off, selector);
  StoreLe16(v, off + 2, attrib);
  StoreLe32(v, off + 4, limit);
  StoreLe64(v, off + 8, base);
}

// QEMU's builtin_x86_defs EPYC models and their family/model/stepping.
struct CpuModel {
  std::string_view name;
  uint32_t family, model, stepping;
};
constexpr std::array<CpuModel, 16> kCpuModels{{
    {"EPYC", 23, 1, 2},
    {"EPYC-v1", 23, 1, 2},
    {"EPYC-v2", 23, 1, 2},
    {"EPYC-IBPB", 23, 1, 2},
    {"EPYC-v3", 23, 1, 2},
    {"EPYC-v4", 23, 1, 2},
    {"EPYC-Rome", 23, 49, 0},
    {"EPYC-Rome-v1", 23, 49, 0},
    {"EPYC-Rome-v2", 23, 49, 0},
    {"EPYC-Rome-v3", 23, 49, 0},
    {"EPYC-Milan", 25, 1, 1},
    {"EPYC-Milan-v1", 25, 1, 1},
    {"EPYC-Milan-v2", 25, 1, 1},
    {"EPYC-Genoa", 25, 17, 0},
    {"EPYC-Genoa-v1", 25, 17, 0},
    {"EPYC-Turin", 26, 0, 0},
}};

}  // namespace

Result<Vmm> ParseVmm(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "qemu") return Vmm::kQemu;
  if (lower == "ec2") return Vmm::kEc2;
  if (lower == "gce") return Vmm::kGce;
  return InvalidInput("unknown VMM '" + std::string(name) + "' (known: qemu, ec2, gce)");
}

std::string_view VmmName(Vmm vmm) {
  switch (vmm) {
    case Vmm::kQemu:
      return "qemu";
    case Vmm::kEc2:
      return "ec2";
    case Vmm::kGce:
      return "gce";
  }
  return "unknown";
}

uint32_t CpuSignature(uint32_t family, uint32_t model, uint32_t stepping) {
  uint32_t family_low = family > 0xf ? 0xf : family;
  uint32_t family_high = family > 0xf ? (family - 0xf) & 0xff : 0;
  return family_high << 20 | ((model >> 4) & 0xf) << 16 | family_low << 8 | (model & 0xf) << 4 |
         (stepping & 0xf);
}

Result<uint32_t> VcpuTypeSignature(std::string_view name) {
  for (const auto& m : kCpuModels) {
    if (m.name == name) return CpuSignature(m.family, m.model, m.stepping);
  }
  std::string known;
  for (const auto& m : kCpuModels) known += (known.empty() ? "" : ", ") + std::string(m.name);
  return InvalidInput("unknown vCPU type '" + std::string(name) + "' (known: " + known + ")");
}

std::vector<std::string_view> VcpuTypeNames() {
  std::vector<std::string_view> out;
  for (const auto& m : kCpuModels) out.push_back(m.name);
  return out;
}

Bytes BuildVmsa(Vmm vmm, uint32_t eip, uint64_t sev_features, uint32_t vcpu_sig) {
  // What differs between VMMs: the accessed bit in CS/SS/TR attributes (EC2 leaves it clear on
  // the BSP's CS, SS and TR), RDX (QEMU puts the CPUID signature there, EC2 and GCE a fixed
  // 0x600), the x87/SSE reset values (only QEMU sets them), and GCE's PAT.
  uint16_t cs_attrib = 0x9b, ss_attrib = 0x93, tr_attrib = 0x8b;
  uint64_t rdx = vcpu_sig, g_pat = kPatReset;
  uint32_t mxcsr = kMxcsrReset;
  uint16_t fcw = kFcwReset;
  if (vmm == Vmm::kEc2) {
    if (eip == kBspResetEip) cs_attrib = 0x9a;
    ss_attrib = 0x92;
    tr_attrib = 0x83;
  }
  if (vmm == Vmm::kGce) g_pat = 0x00070106;
  if (vmm != Vmm::kQemu) {
    rdx = 0x600;
    mxcsr = 0;
    fcw = 0;
  }
  Bytes v(kVmsaSize, 0);
  Segment(v, kEs, 0, 0x93, 0xffff, 0);
  Segment(v, kCs, 0xf000, cs_attrib, 0xffff, eip & 0xffff0000);
  Segment(v, kSs, 0, ss_attrib, 0xffff, 0);
  Segment(v, kDs, 0, 0x93, 0xffff, 0);
  Segment(v, kFs, 0, 0x93, 0xffff, 0);
  Segment(v, kGs, 0, 0x93, 0xffff, 0);
  Segment(v, kGdtr, 0, 0, 0xffff, 0);
  Segment(v, kLdtr, 0, 0x82, 0xffff, 0);
  Segment(v, kIdtr, 0, 0, 0xffff, 0);
  Segment(v, kTr, 0, tr_attrib, 0xffff, 0);
  StoreLe64(v, kEfer, kEferSvme);
  StoreLe64(v, kCr4, kCr4Mce);
  StoreLe64(v, kCr0, kCr0Et);
  StoreLe64(v, kDr7, kDr7Reset);
  StoreLe64(v, kDr6, kDr6Reset);
  StoreLe64(v, kRflags, kRflagsReset);
  StoreLe64(v, kRip, eip & 0xffff);
  StoreLe64(v, kGPat, g_pat);
  StoreLe64(v, kRdx, rdx);
  StoreLe64(v, kSevFeatures, sev_features);
  StoreLe64(v, kXcr0, kXcr0Reset);
  StoreLe32(v, kMxcsr, mxcsr);
  StoreLe16(v, kX87Fcw, fcw);
  return v;
}

Bytes BuildSvsmVmsa(uint64_t eip, uint32_t vcpu_sig) {
  // The Coconut-SVSM QEMU starts every vCPU in 32-bit protected mode (CR0.PE) with flat 4 GiB
  // code and data segments (selectors 8 and 16), at the SVSM's entry point.
  Bytes v(kVmsaSize, 0);
  Segment(v, kEs, 16, 0xc93, 0xffffffff, 0);
  Segment(v, kCs, 8, 0xc9b, 0xffffffff, 0);
  Segment(v, kSs, 16, 0xc93, 0xffffffff, 0);
  Segment(v, kDs, 16, 0xc93, 0xffffffff, 0);
  Segment(v, kFs, 16, 0xc93, 0xffffffff, 0);
  Segment(v, kGs, 0, 0x93, 0xffff, 0);
  Segment(v, kGdtr, 0, 0, 0xffff, 0);
  Segment(v, kLdtr, 0, 0x82, 0xffff, 0);
  Segment(v, kIdtr, 0, 0, 0xffff, 0);
  Segment(v, kTr, 0, 0x8b, 0xffff, 0);
  StoreLe64(v, kEfer, kEferSvme);
  StoreLe64(v, kCr4, kCr4Mce);
  StoreLe64(v, kCr0, kCr0Et | 0x1);
  StoreLe64(v, kDr7, kDr7Reset);
  StoreLe64(v, kDr6, kDr6Reset);
  StoreLe64(v, kRflags, kRflagsReset);
  StoreLe64(v, kRip, eip);
  StoreLe64(v, kGPat, kPatReset);
  StoreLe64(v, kRdx, vcpu_sig);
  StoreLe64(v, kSevFeatures, 0x1);  // SNPActive only: the SVSM enables the rest itself
  StoreLe64(v, kXcr0, kXcr0Reset);
  StoreLe32(v, kMxcsr, kMxcsrReset);
  // x87 FCW stays 0 here, unlike the firmware-started VMSA: this is the state the published SVSM
  // reference measurements (virtee/sev-snp-measure 0.0.13, snp:svsm) are computed from.
  return v;
}

}  // namespace cvm::snp
