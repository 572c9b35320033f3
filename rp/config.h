// cvm-rp's configuration file (YAML; docs/relying-party.md "Configuration reference").
// Relative paths are resolved against the directory of the configuration file. Unknown keys are
// refused; errors read "<file>:<line>:<col>: <key>: <problem>".
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/file_util.h"
#include "common/ossl.h"
#include "common/status.h"
#include "common/x509.h"
#include "rp/http_server.h"
#include "rp/resources.h"
#include "rp/vm_resources.h"

namespace cvm::rp {

struct Config {
  std::string file;
  std::vector<Listener> listen;  // default: 127.0.0.1:8080 over HTTP
  std::string tls_cert, tls_key;
  std::string token_key;  // ES256 P-256 PEM; generated there (0600) when absent
  std::chrono::seconds token_lifetime{300};
  std::string issuer = "cvm-rp";
  std::string policy;  // required
  std::string resource_dir;
  // Inline resources: "repo/type/tag" -> value. For demos and tests; files are preferred.
  std::vector<std::pair<std::string, std::shared_ptr<const SecretBytes>>> inline_resources;
  std::chrono::seconds session_timeout{300};
  int threads = 2;
  std::string audit_log;  // empty: journald/stderr through common/log.h
  bool diagnostic_header = false;
  // Trust anchors (PEM files). Empty: the built-in AMD / Intel roots. A simulated root is
  // trusted only when named here (and a policy rule still has to allow_simulated).
  std::vector<std::string> snp_roots, tdx_roots, crls;
  bool fetch_collateral = false;  // fetch missing VCEKs / TDX collateral over the network
  // TDX collateral (PCCS JSON, tdx/collateral.h) for quotes that bring none (Trustee's tdx
  // evidence never does): for one platform, e.g. `cvmctl sim collateral` or a PCCS export.
  std::string tdx_collateral;
  // GPUs (the "nvidia" additional evidence): RIM files, a RIM directory (<id>.xml or
  // <id>.swidtag), and whether to fetch missing RIMs from NVIDIA's RIM service (kept in rim_dir).
  // device_roots / rim_roots replace NVIDIA's pinned roots: for simulated GPUs in tests and demos.
  struct Gpu {
    std::vector<std::string> rims;
    std::string rim_dir;
    bool fetch_rims = false;
    // OCSP for the GPU chains' intermediates at NVIDIA's responder (online; answers cached).
    bool ocsp = false;
    std::string ocsp_url = "https://ocsp.ndis.nvidia.com/";
    std::vector<std::string> device_roots, rim_roots;
  } gpu;
  size_t max_body = 2 << 20;
  size_t max_header = 16 << 10;
  std::chrono::seconds read_timeout{30};
  size_t max_sessions = 100000;
  size_t max_connections = 4096;
  ResourceLimits resource_limits;
  // Per-VM resources (the vm-resource plugin); nullopt: not served.
  std::optional<VmResourceConfig> vm_resources;
};

Result<Config> ParseConfig(std::string_view yaml, const std::string& file);
Result<Config> LoadConfig(const std::string& path);

// The resource store a configuration describes (directory tree plus inline values).
Result<std::shared_ptr<const ResourceStore>> LoadResources(const Config& config);

// The server options a configuration describes.
HttpServerOptions ServerOptionsFor(const Config& config);

// Every certificate in the PEM files (trust anchors), and the CRLs (DER or PEM).
Result<std::vector<Certificate>> LoadCertificates(const std::vector<std::string>& files);
Result<std::vector<Crl>> LoadCrls(const std::vector<std::string>& files);

// The token signing key: read from `path` (PEM, must be EC P-256), or, when the file does not
// exist and `create` is set, generated and written there with mode 0600 (*created = true).
Result<ossl::PKey> LoadOrCreateTokenKey(const std::string& path, bool create, bool* created);

}  // namespace cvm::rp
