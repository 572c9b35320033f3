// The daemon's configuration: one YAML file (default /etc/cvm-agent/config.yaml), every key
// documented in docs/configuration.md. Loading is strict: an unknown key, a wrong type or an
// impossible value is an error naming the file, line and column, and every such error in the file
// is reported at once (not just the first). Library code never reads the file system beyond the
// configuration file itself and the user/group databases (owner names are resolved at load time
// so that `--check-config` catches a user that does not exist).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

namespace cvm::agent {

inline constexpr char kDefaultConfigPath[] = "/etc/cvm-agent/config.yaml";

// The TEE the daemon attests with. kAuto: detected (agent/platform.h).
enum class TeeSetting { kAuto, kSnp, kTdx, kAzSnpVtpm, kAzTdxVtpm, kSimSnp, kSimTdx };
// "auto", "snp", "tdx", "az-snp-vtpm", "az-tdx-vtpm", "sim-snp", "sim-tdx".
const char* TeeSettingName(TeeSetting tee);

// NVIDIA confidential GPUs (docs/gpu.md): kOff never looks for GPUs; kAuto adds every GPU's
// evidence when NVML (libnvidia-ml.so.1) is installed and the GPUs are in CC mode, and otherwise
// collects the CPU evidence alone with a log line saying why; kRequired refuses to start without
// NVML and refuses to collect without GPU evidence.
enum class GpuSetting { kOff, kAuto, kRequired };
// "off", "auto", "required".
const char* GpuSettingName(GpuSetting gpu);

struct TpmConfig {
  // Whether vTPM evidence is added next to bare SNP/TDX evidence (vTPM kinds always use it).
  bool enabled = false;
  std::string tcti = "device:/dev/tpmrm0";
  std::string event_log = "/sys/kernel/security/tpm0/binary_bios_measurements";
};

struct RelyingPartyConfig {
  std::string url;         // https://host[:port] (http:// only for loopback hosts)
  std::string ca_file;     // PEM trust anchors for the RP's TLS; empty: system store
  std::string pin_sha256;  // lowercase hex SHA-256 of the RP's SPKI; empty: not pinned
  std::string proxy;       // proxy URL; empty: none (the environment is never consulted)
  std::string token_key;   // PEM public key that signs the RP's attestation token
};

struct TimeoutsConfig {
  std::chrono::milliseconds connect{5000};
  std::chrono::milliseconds request{30000};
  // Overall deadline of the boot attestation, retries included.
  std::chrono::milliseconds deadline{300000};
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{30000};
  double jitter = 0.2;  // each backoff is multiplied by a random factor in [1 - j, 1 + j]
};

struct RefreshConfig {
  // Re-attest this long before the token expires (when the RP says when it does).
  std::chrono::milliseconds before_expiry{300000};
  // Re-attest on a fixed schedule; zero: only before expiry and on request.
  std::chrono::milliseconds interval{0};
};

struct FileSink {
  std::string name;  // file name under paths.secrets_dir
  uid_t owner = 0;
  gid_t group = 0;
  mode_t mode = 0600;
};

struct CredentialSink {
  std::vector<std::string> units;  // units allowed to load it ("app.service")
  std::string name;                // the credential name in LoadCredential=NAME:...
};

struct CryptsetupSink {
  std::string volume;    // crypttab volume name
  bool keyfile = false;  // also write <cryptsetup_keys_dir>/<volume>.key
  // The LUKS UUID of the volume (canonical lower-case 8-4-4-4-12) the cvm token plugin may get
  // this key for (POST /v1/luks/key); empty: the plugin gets no key for this resource.
  std::string uuid;
};

struct LuksConfig {
  // Ciphers a volume's keyslots and segments may use for POST /v1/luks/key to hand out its key
  // (a null cipher is refused whatever this says).
  std::vector<std::string> allowed_ciphers = {"aes-xts-plain64"};
};

struct ApiSink {
  std::vector<uid_t> uids;
  std::vector<gid_t> gids;
  bool allow_tcp = false;  // may be read over the TCP listener (no peer credentials there)
};

// The prefix of a per-VM resource's path: "{vm_id}/<type>/<tag>" is a value the relying party
// keeps for this VM alone, under an id it derives from the VM's evidence (evidence/kbs.h,
// "vm-resource"); `cvmctl luks provision` creates it at first boot.
inline constexpr char kVmIdPath[] = "{vm_id}/";

struct ResourceConfig {
  std::string name;  // [A-Za-z0-9._-], unique
  // "repo/type/tag" at the relying party, or "{vm_id}/type/tag" for a per-VM resource.
  std::string path;
  bool per_vm() const { return path.starts_with(kVmIdPath); }
  std::optional<FileSink> file;
  std::optional<CredentialSink> credential;
  std::optional<CryptsetupSink> cryptsetup;
  std::optional<ApiSink> api;
};

struct ApiConfig {
  std::string socket = "/run/cvm-agent/api.sock";
  mode_t socket_mode = 0666;         // the ACLs are per resource (SO_PEERCRED), not on the socket
  std::optional<uint16_t> tcp_port;  // listens on 127.0.0.1 only
  size_t header_limit = 8192;
  size_t body_limit = 4096;
  std::chrono::milliseconds read_timeout{10000};
  size_t max_connections = 64;
  int threads = 2;
};

struct PathsConfig {
  std::string secrets_dir = "/run/cvm-agent/secrets";
  std::string credentials_socket = "/run/cvm-agent/credentials.sock";
  std::string cryptsetup_socket = "/run/cvm-agent/cryptsetup.sock";
  std::string cryptsetup_keys_dir = "/run/cryptsetup-keys.d";
};

struct Config {
  std::string source;  // the file it was loaded from
  TeeSetting tee = TeeSetting::kAuto;
  std::string sim_state_dir;  // required for sim-snp / sim-tdx, refused otherwise
  // The simulated launch measurement (sim-snp: MEASUREMENT, sim-tdx: MRTD; 48 bytes); empty:
  // the simulator's default.
  Bytes sim_measurement;
  TpmConfig tpm;
  // Init-data TOML (evidence/init_data.h) the host launched this VM with; sent with every
  // attestation, and the report must commit to its digest. Empty: none.
  std::string init_data;
  GpuSetting gpu = GpuSetting::kAuto;
  std::vector<RelyingPartyConfig> relying_parties;
  TimeoutsConfig timeouts;
  RefreshConfig refresh;
  std::vector<ResourceConfig> resources;
  ApiConfig api;
  PathsConfig paths;
  LuksConfig luks;
  std::string log_level = "info";

  const ResourceConfig* FindResource(std::string_view name) const;
};

// Parses configuration text; `source` names it in errors ("FILE:LINE:COL: key: problem").
// kInvalidInput listing every error, one per line.
Result<Config> ParseConfig(std::string_view yaml, const std::string& source);
// Reads and parses a file (kNotFound / kPermissionDenied when it cannot be read).
Result<Config> LoadConfig(const std::string& path);

// "250ms", "5s", "2m", "1h", "1h30m"; a bare number is refused (units are required).
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

}  // namespace cvm::agent
