// The initial VMSA (VM save area, AMD APM vol. 2 table B-4) that a VMM hands to SNP_LAUNCH_UPDATE
// for each vCPU of an SEV-ES or SEV-SNP guest. The page is measured whole, so every byte must be
// what the VMM writes: the register state after INIT as KVM sets it, with the differences each
// VMM introduces (QEMU, AWS EC2, Google GCE) and the Coconut-SVSM start state.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/bytes.h"

namespace cvm::snp {

inline constexpr size_t kVmsaSize = 4096;

enum class Vmm { kQemu, kEc2, kGce };

// "qemu", "ec2", "gce" (case-insensitive). kInvalidInput naming the accepted values.
Result<Vmm> ParseVmm(std::string_view name);
std::string_view VmmName(Vmm vmm);

// The CPUID Fn0000_0001_EAX signature for a family, model and stepping (AMD CPUID
// specification #25481): extended family above 0xF, extended model in bits 19:16.
uint32_t CpuSignature(uint32_t family, uint32_t model, uint32_t stepping);
// The signature of a QEMU CPU model name ("EPYC-v4", "EPYC-Milan", "EPYC-Genoa-v1", ...):
// kInvalidInput listing the known names for another name.
Result<uint32_t> VcpuTypeSignature(std::string_view name);
// Every CPU model name VcpuTypeSignature knows, in a stable order.
std::vector<std::string_view> VcpuTypeNames();

// The BSP's reset address (the architectural reset vector).
inline constexpr uint32_t kBspResetEip = 0xfffffff0;

// The VMSA page of a vCPU that starts at `eip` in real mode (CS base = eip & 0xffff0000, RIP =
// eip & 0xffff), as `vmm` creates it. `sev_features` is the SEV_FEATURES field (0 for SEV-ES).
// `vcpu_sig` goes to RDX for QEMU; EC2 and GCE always put 0x600 there and ignore it.
Bytes BuildVmsa(Vmm vmm, uint32_t eip, uint64_t sev_features, uint32_t vcpu_sig);

// The VMSA page of a vCPU of a Coconut-SVSM guest (QEMU): 32-bit protected mode with flat
// segments, starting at the SVSM's entry point `eip`, SEV_FEATURES = SNPActive.
Bytes BuildSvsmVmsa(uint64_t eip, uint32_t vcpu_sig);

}  // namespace cvm::snp
