// Platform detection, fail closed. With `tee: auto` the probes run in a fixed order and the first
// that finds a TEE wins:
//   1. configfs-tsm (<root>/sys/kernel/config/tsm/report): a probe entry is created and its
//      `provider` read ("sev_guest" -> snp, "tdx_guest" -> tdx), then removed;
//   2. <root>/dev/sev-guest -> snp;
//   3. <root>/dev/tdx_guest -> tdx;
//   4. Azure's HCL report in TPM NV index 0x01400001 -> az-snp-vtpm or az-tdx-vtpm by its type.
// A configured kind is checked the same way and must be found ("tee: snp" on a machine without
// SEV-SNP is an error, never a fallback). Simulated kinds are used only when configured, and the
// result then says so (`simulated`), which every start and every status answer repeats.
#pragma once

#include <functional>
#include <string>

#include "agent/config.h"
#include "common/bytes.h"
#include "common/status.h"
#include "common/tsm.h"

namespace cvm::agent {

enum class TeeKind { kSnp, kTdx, kAzSnpVtpm, kAzTdxVtpm, kSimSnp, kSimTdx };
// "snp", "tdx", "az-snp-vtpm", "az-tdx-vtpm", "sim-snp", "sim-tdx".
const char* TeeKindName(TeeKind kind);
// Azure's vTPM-wrapped TEEs (their evidence needs Azure IMDS, reached over HTTP).
inline bool IsAzure(TeeKind kind) {
  return kind == TeeKind::kAzSnpVtpm || kind == TeeKind::kAzTdxVtpm;
}

struct Platform {
  TeeKind kind = TeeKind::kSnp;
  // How it was found, for logs and /v1/status, e.g. "configfs-tsm provider sev_guest",
  // "/dev/sev-guest", "configured: sim-snp (state /var/lib/...)".
  std::string found_by;
  bool configfs_tsm = false;  // reports are requested through configfs-tsm
  bool simulated = false;
};

// The environment the probes look at; every member is injectable for tests.
struct PlatformEnv {
  std::string root = "";    // prefix for /sys and /dev ("" is the real root)
  TsmFs* tsm_fs = nullptr;  // nullptr: RealTsmFs()
  // Reads the Azure HCL report NV index; kNotFound when there is none. Empty: probe skipped
  // (no TPM configured or reachable).
  std::function<Result<Bytes>()> read_hcl_report;
};

// Detects or checks the TEE. kNotFound with a message listing what was probed when there is no
// TEE (the daemon exits 3); kInvalidInput when a simulated kind lacks its state directory.
Result<Platform> DetectPlatform(const Config& config, const PlatformEnv& env);

}  // namespace cvm::agent
