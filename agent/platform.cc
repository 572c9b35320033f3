#include "agent/platform.h"

#include <sys/stat.h>
#include <unistd.h>

#include <optional>

#include "tpm/hcl.h"

namespace cvm::agent {

const char* TeeKindName(TeeKind kind) {
  switch (kind) {
    case TeeKind::kSnp:
      return "snp";
    case TeeKind::kTdx:
      return "tdx";
    case TeeKind::kAzSnpVtpm:
      return "az-snp-vtpm";
    case TeeKind::kAzTdxVtpm:
      return "az-tdx-vtpm";
    case TeeKind::kSimSnp:
      return "sim-snp";
    case TeeKind::kSimTdx:
      return "sim-tdx";
  }
  return "?";
}

namespace {

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// The provider behind configfs-tsm, read from a probe entry that is removed again.
// nullopt when configfs-tsm is not there; an error when it is there but unusable.
Result<std::optional<TeeKind>> ProbeTsm(const PlatformEnv& env, std::string* note) {
  TsmFs& fs = env.tsm_fs ? *env.tsm_fs : RealTsmFs();
  std::string root = env.root + kTsmReportRoot;
  if (!fs.IsDirectory(root)) return std::optional<TeeKind>();
  std::string entry = root + "/cvm-agent-probe-" + std::to_string(::getpid());
  Status made = fs.MakeDir(entry);
  if (!made.ok()) {
    // ENXIO: configfs-tsm is mounted but no provider registered (no TEE behind it).
    *note = "configfs-tsm has no provider (" + made.message() + ")";
    return std::optional<TeeKind>();
  }
  auto provider = fs.ReadAttr(entry + "/provider", 64);
  Status removed = fs.RemoveDir(entry);
  if (!provider.ok()) return provider.status().WithContext("configfs-tsm provider");
  if (!removed.ok()) return removed.WithContext("configfs-tsm probe");
  std::string name(AsChars(*provider));
  while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
  *note = "configfs-tsm provider " + name;
  if (name == "sev_guest") return std::optional<TeeKind>(TeeKind::kSnp);
  if (name == "tdx_guest") return std::optional<TeeKind>(TeeKind::kTdx);
  return Unsupported("configfs-tsm provider '" + name + "' is not a TEE this agent supports");
}

// The Azure HCL report's type, or nullopt when there is none.
Result<std::optional<TeeKind>> ProbeAzure(const PlatformEnv& env) {
  if (!env.read_hcl_report) return std::optional<TeeKind>();
  auto raw = env.read_hcl_report();
  if (!raw.ok()) {
    if (raw.status().code() == Code::kNotFound) return std::optional<TeeKind>();
    return raw.status().WithContext("Azure HCL report");
  }
  CVM_ASSIGN_OR_RETURN(auto report, tpm::ParseHclReport(*raw).WithContext("Azure HCL report"));
  return std::optional<TeeKind>(report.type == tpm::HclReportType::kSnp ? TeeKind::kAzSnpVtpm
                                                                        : TeeKind::kAzTdxVtpm);
}

bool Matches(TeeSetting setting, TeeKind kind) {
  switch (setting) {
    case TeeSetting::kAuto:
      return true;
    case TeeSetting::kSnp:
      return kind == TeeKind::kSnp;
    case TeeSetting::kTdx:
      return kind == TeeKind::kTdx;
    case TeeSetting::kAzSnpVtpm:
      return kind == TeeKind::kAzSnpVtpm;
    case TeeSetting::kAzTdxVtpm:
      return kind == TeeKind::kAzTdxVtpm;
    default:
      return false;
  }
}

}  // namespace

Result<Platform> DetectPlatform(const Config& config, const PlatformEnv& env) {
  if (config.tee == TeeSetting::kSimSnp || config.tee == TeeSetting::kSimTdx) {
    if (config.sim_state_dir.empty()) {
      return InvalidInput(std::string(TeeSettingName(config.tee)) + " needs sim.state_dir");
    }
    Platform p;
    p.kind = config.tee == TeeSetting::kSimSnp ? TeeKind::kSimSnp : TeeKind::kSimTdx;
    p.simulated = true;
    p.found_by = std::string("configured: ") + TeeKindName(p.kind) + " (state " +
                 config.sim_state_dir + "); SIMULATED, not a confidential VM";
    return p;
  }
  std::vector<std::string> probed;
  // 1. configfs-tsm
  std::string tsm_note;
  CVM_ASSIGN_OR_RETURN(auto tsm, ProbeTsm(env, &tsm_note));
  probed.push_back(tsm_note.empty() ? "no configfs-tsm" : tsm_note);
  if (tsm && Matches(config.tee, *tsm)) {
    return Platform{*tsm, tsm_note, true, false};
  }
  // 2, 3. the character devices
  for (auto [dev, kind] :
       {std::pair{"/dev/sev-guest", TeeKind::kSnp}, std::pair{"/dev/tdx_guest", TeeKind::kTdx}}) {
    std::string path = env.root + dev;
    if (Exists(path)) {
      if (Matches(config.tee, kind)) return Platform{kind, dev, false, false};
      probed.push_back(std::string(dev) + " (" + TeeKindName(kind) + ")");
    } else {
      probed.push_back(std::string("no ") + dev);
    }
  }
  // 4. Azure's paravisor-provided HCL report
  CVM_ASSIGN_OR_RETURN(auto azure, ProbeAzure(env));
  if (azure) {
    if (Matches(config.tee, *azure)) {
      return Platform{*azure, "Azure HCL report (TPM NV 0x01400001)", false, false};
    }
    probed.push_back(std::string("Azure HCL report (") + TeeKindName(*azure) + ")");
  } else {
    probed.push_back(env.read_hcl_report ? "no Azure HCL report" : "Azure HCL report not probed");
  }
  std::string list;
  for (const auto& p : probed) list += (list.empty() ? "" : "; ") + p;
  if (config.tee == TeeSetting::kAuto) {
    return NotFound("no confidential-computing TEE found (" + list + ")");
  }
  return NotFound(std::string("the configured TEE '") + TeeSettingName(config.tee) +
                  "' is not present (" + list + ")");
}

}  // namespace cvm::agent
