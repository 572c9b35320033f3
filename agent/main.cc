// cvm-agentd: the guest attestation daemon. Exit codes (docs/configuration.md):
//   0 stopped cleanly (SIGTERM) or --check-config passed
//   1 attestation refused or the boot deadline passed (nothing was delivered)
//   2 configuration error (file:line:column named) or bad command line
//   3 no TEE, or a device, socket or component the configuration needs is not available
#include <malloc.h>
#include <signal.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "agent/api.h"
#include "agent/api_server.h"
#include "agent/boot.h"
#include "agent/collect_source.h"
#include "agent/config.h"
#include "agent/kbs_attester.h"
#include "agent/platform.h"
#include "agent/sinks.h"
#include "agent/state.h"
#include "common/args.h"
#include "common/http_helper.h"
#include "common/log.h"
#include "tpm/hcl.h"
#include "tpm/tpm.h"

namespace {

using namespace cvm;         // NOLINT(google-build-using-namespace)
using namespace cvm::agent;  // NOLINT(google-build-using-namespace)

// An inherited socket (sd_listen_fds) bound to `path`, or -1.
int InheritedUnix(int n, const std::string& path) {
  for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; ++fd) {
    if (sd_is_socket_unix(fd, SOCK_STREAM, 1, path.c_str(), 0) > 0) return fd;
  }
  return -1;
}
int InheritedTcp(int n) {
  for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; ++fd) {
    if (sd_is_socket_inet(fd, AF_INET, SOCK_STREAM, 1, 0) > 0) return fd;
  }
  return -1;
}

PlatformEnv RealPlatformEnv(const Config& config) {
  PlatformEnv env;
  bool probe_tpm = config.tee == TeeSetting::kAuto || config.tee == TeeSetting::kAzSnpVtpm ||
                   config.tee == TeeSetting::kAzTdxVtpm;
  if (probe_tpm) {
    std::string tcti = config.tpm.tcti;
    env.read_hcl_report = [tcti]() -> Result<Bytes> {
      auto tpm = tpm::OpenTpm(tcti);
      // No TPM at all means no Azure paravisor either.
      if (!tpm.ok()) return NotFound("no TPM (" + tpm.status().message() + ")");
      return (*tpm)->NvRead(tpm::kHclReportNvIndex);
    };
  }
  return env;
}

// The HTTP helper (cvm-agent-http): next to this executable (a build tree), else in lib/cvm-agent
// beside the folder it is in (an installed or unpacked package: /usr/sbin/cvm-agentd ->
// /usr/lib/cvm-agent), else where the package installs it. Writes its path to `out` and returns
// true when one exists. C library only: it runs from .preinit_array (SpawnHttpHelperEarly).
bool FindHttpHelper(char* out, size_t size) {
  auto usable = [&](int len) {
    return len > 0 && static_cast<size_t>(len) < size && ::access(out, X_OK) == 0;
  };
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  const char* slash = nullptr;
  if (n > 0) {
    self[n] = '\0';
    slash = std::strrchr(self, '/');
  }
  if (slash != nullptr) {
    const int dir = static_cast<int>(slash - self + 1);
    if (usable(std::snprintf(out, size, "%.*scvm-agent-http", dir, self))) return true;
    if (usable(std::snprintf(out, size, "%.*s../lib/cvm-agent/cvm-agent-http", dir, self))) {
      return true;
    }
  }
  return usable(std::snprintf(out, size, "%s", CVM_HELPER_DIR "/cvm-agent-http"));
}

// The first HTTP helper, spawned before anything else in this process runs (the libraries'
// constructors included: José's seeds OpenSSL's random generator, about 1 ms), so that it loads
// libcurl and its libraries (about 5 ms of CPU, mostly the dynamic loader) while this process
// starts, reads its configuration and opens the TEE, the TPM and its sockets; the first exchange
// takes it (Run ends it when there is no relying party). Not for the options that only print or
// check and exit.
char g_helper_path[4096];
bool g_helper_found = false;
HttpHelperProcess g_early_helper;

void SpawnHttpHelperEarly(int argc, char** argv, char** envp) {
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    if (std::strncmp(arg, "--check-config", 14) == 0 || std::strcmp(arg, "--help") == 0 ||
        std::strcmp(arg, "-h") == 0 || std::strcmp(arg, "--version") == 0) {
      return;
    }
  }
  g_helper_found = FindHttpHelper(g_helper_path, sizeof g_helper_path);
  if (g_helper_found) g_early_helper = SpawnHttpHelperProcess(g_helper_path, true, envp);
}

using PreinitFunction = void (*)(int, char**, char**);
[[gnu::section(".preinit_array"), gnu::used]] const PreinitFunction kSpawnHttpHelperEarly =
    SpawnHttpHelperEarly;

int CheckConfig(const std::string& path) {
  auto config = LoadConfig(path);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().message().c_str());
    return kExitUsage;
  }
  std::printf("%s: ok (%zu relying part%s, %zu resource%s, tee %s)\n", path.c_str(),
              config->relying_parties.size(), config->relying_parties.size() == 1 ? "y" : "ies",
              config->resources.size(), config->resources.size() == 1 ? "" : "s",
              TeeSettingName(config->tee));
  return kExitOk;
}

// `http_helper`: the HTTP helper found at start (empty path: none) and, when relying parties may
// be configured, the first helper process, started before the configuration was read.
int Run(const Config& config, HttpHelperOptions http_helper,
        std::shared_ptr<HttpHelperLauncher> launcher) {
  if (config.relying_parties.empty()) launcher.reset();  // not needed: ends and reaps it
  auto platform = DetectPlatform(config, RealPlatformEnv(config));
  if (!platform.ok()) {
    log::Error(platform.status().ToString());
    return platform.status().code() == Code::kInvalidInput ? kExitUsage : kExitUnavailable;
  }
  log::Notice(std::string("cvm-agentd ") + Version() + " starting: TEE " +
              TeeKindName(platform->kind) + " (" + platform->found_by + ")");
  if (platform->simulated) {
    log::Warning(std::string("SIMULATED TEE ") + TeeKindName(platform->kind) +
                 ": this is not a confidential VM and its evidence proves nothing");
  }
  // A broken installation is a start failure, not an attestation that fails at the deadline.
  if (http_helper.path.empty() && (IsAzure(platform->kind) || !config.relying_parties.empty())) {
    log::Error(std::string("the HTTP helper cvm-agent-http is missing (looked next to cvm-agentd, "
                           "in ../lib/cvm-agent from it and in ") +
               CVM_HELPER_DIR + "): the installation is incomplete");
    return kExitUnavailable;
  }
  HttpClientFactory new_http = [launcher, http_helper] {
    return launcher ? launcher->Take() : StartHttpHelper(http_helper);
  };
  // Evidence comes from the detected TEE only (a simulator only when configured, see
  // DetectPlatform); a provider that cannot be opened is a start failure, never a fallback.
  auto collector = EvidenceCollector::Open(config, *platform, new_http);
  if (!collector.ok()) {
    log::Error("evidence: " + collector.status().ToString());
    return kExitUnavailable;
  }
  KbsAttesterDeps attester_deps;
  attester_deps.new_http = new_http;
  auto kbs_attester = NewKbsAttester(config, *collector, attester_deps);
  if (!kbs_attester.ok()) {
    log::Error("relying parties: " + kbs_attester.status().ToString());
    return kbs_attester.status().code() == Code::kInvalidInput ? kExitUsage : kExitUnavailable;
  }
  std::unique_ptr<EvidenceSource> evidence_source = NewCollectEvidenceSource(*collector);
  Attester* attester = kbs_attester->get();
  EvidenceSource* evidence = evidence_source.get();

  // Signals are taken by a dedicated thread: block them before any other thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // A run killed while writing secrets may have left temporary files next to them.
  auto stale = RemoveStaleTemporaries(config);
  if (!stale.ok()) {
    log::Warning("secret files: " + stale.status().ToString());
  } else if (*stale > 0) {
    log::Notice("removed " + std::to_string(*stale) +
                " temporary secret file(s) left by an interrupted delivery");
  }

  AgentState state(config, *platform, SystemClock::Get().Now());
  Metrics metrics;
  SecretStore secrets;
  CondSleeper sleeper;
  std::mt19937_64 rng{std::random_device{}()};
  BootDeps deps;
  deps.config = &config;
  deps.attester = attester;
  deps.secrets = &secrets;
  deps.state = &state;
  deps.metrics = &metrics;
  deps.notifier = &SystemdNotifier();
  deps.clock = &SystemClock::Get();
  deps.sleeper = &sleeper;
  deps.random = [&rng] { return std::uniform_real_distribution<double>(0, 1)(rng); };
  BootFlow flow(deps);

  int inherited = sd_listen_fds(1);
  if (inherited < 0) inherited = 0;

  // systemd-cryptsetup and LoadCredential= may connect before the first delivery (the sockets
  // listen from the start, and under socket activation before the agent runs): a request for a
  // configured resource is held until its secret arrives, rather than answered with nothing. It
  // gives up when the resource failed or is not provisioned, the boot attestation failed, the
  // boot deadline passed, or the agent stops.
  std::atomic<bool> key_waits_cancelled{false};
  auto lookup = [&](const KeyRequest& request) -> std::optional<SecretBytes> {
    const ResourceConfig* r = ResolveKeyRequest(config, request);
    if (r == nullptr) return std::nullopt;
    const auto until = std::chrono::steady_clock::now() + config.timeouts.deadline;
    return WaitForSecret(secrets, r->name, [&] {
      if (key_waits_cancelled || state.phase() == AgentPhase::kFailed ||
          std::chrono::steady_clock::now() >= until) {
        return true;
      }
      auto resources = state.resources();
      auto it = resources.find(r->name);
      return it != resources.end() && (it->second.state == DeliveryState::kFailed ||
                                       it->second.state == DeliveryState::kNotProvisioned);
    });
  };
  std::unique_ptr<KeySocketServer> credentials, cryptsetup;
  bool want_credentials = false, want_cryptsetup = false;
  for (const auto& r : config.resources) {
    want_credentials = want_credentials || r.credential.has_value();
    want_cryptsetup = want_cryptsetup || r.cryptsetup.has_value();
  }
  auto start_key_socket = [&](std::unique_ptr<KeySocketServer>& server, KeyRequest::Kind kind,
                              const std::string& path) -> Status {
    server = std::make_unique<KeySocketServer>(kind, lookup);
    int fd = InheritedUnix(inherited, path);
    return fd >= 0 ? server->Adopt(fd) : server->Listen(path, 0600);
  };
  if (want_credentials) {
    Status s = start_key_socket(credentials, KeyRequest::Kind::kCredential,
                                config.paths.credentials_socket);
    if (!s.ok()) {
      log::Error("credentials socket: " + s.ToString());
      return kExitUnavailable;
    }
  }
  if (want_cryptsetup) {
    Status s =
        start_key_socket(cryptsetup, KeyRequest::Kind::kCryptsetup, config.paths.cryptsetup_socket);
    if (!s.ok()) {
      log::Error("cryptsetup socket: " + s.ToString());
      return kExitUnavailable;
    }
  }

  ApiHandler::Deps api_deps;
  api_deps.config = &config;
  api_deps.state = &state;
  api_deps.metrics = &metrics;
  api_deps.secrets = &secrets;
  api_deps.evidence = evidence;
  api_deps.request_attest = [&flow] { flow.RequestAttest(); };
  api_deps.token = [&flow] { return flow.token(); };
  api_deps.provision = [&flow](const std::string& name) -> Result<std::pair<bool, std::string>> {
    CVM_ASSIGN_OR_RETURN(BootFlow::ProvisionResult r, flow.Provision(name));
    return std::make_pair(r.created, r.relying_party);
  };
  api_deps.clock = &SystemClock::Get();
  ApiHandler handler(api_deps);
  ApiServerOptions options;
  options.unix_fd = InheritedUnix(inherited, config.api.socket);
  options.unix_path = config.api.socket;
  options.unix_mode = config.api.socket_mode;
  options.tcp_fd = InheritedTcp(inherited);
  options.tcp_port = config.api.tcp_port;
  options.header_limit = config.api.header_limit;
  options.body_limit = config.api.body_limit;
  options.read_timeout = config.api.read_timeout;
  options.max_connections = config.api.max_connections;
  options.io_threads = config.api.threads;
  auto server = StartApiServer(options, handler);
  if (!server.ok()) {
    log::Error("API: " + server.status().ToString());
    return kExitUnavailable;
  }
  log::Info("API listening on " + config.api.socket +
            (config.api.tcp_port ? " and 127.0.0.1:" + std::to_string(*config.api.tcp_port) : ""));

  std::atomic<bool> exiting{false};  // set before the main thread wakes the signal thread
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (!exiting) log::Notice(std::string("stopping on signal ") + std::to_string(sig));
    flow.Stop();
  });

  // Watchdog: pinged from its own thread at half the interval systemd asked for.
  uint64_t watchdog_usec = 0;
  std::atomic<bool> watchdog_stop{false};
  std::thread watchdog;
  if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0) {
    watchdog = std::thread([&] {
      CondSleeper tick;
      while (!watchdog_stop) {
        sd_notify(0, "WATCHDOG=1");
        tick.Wait(std::chrono::milliseconds(watchdog_usec / 2000));
      }
    });
  }

  int exit_code = kExitOk;
  Status booted = flow.RunBoot();
  if (!booted.ok()) {
    log::Error("boot attestation failed: " + booted.ToString());
    exit_code = booted.code() == Code::kPermissionDenied || booted.code() == Code::kIoError
                    ? kExitUnavailable
                    : kExitRejected;
    flow.Stop();
  } else {
    // Start-up (configuration, keys, the first exchange) is over: give the heap's free pages
    // back to the system before idling (about 0.1 MiB, docs/performance.md).
    malloc_trim(0);
    flow.RunForever();
  }
  sd_notify(0, "STOPPING=1");
  key_waits_cancelled = true;
  (*server)->Stop();
  if (credentials) credentials->Stop();
  if (cryptsetup) cryptsetup->Stop();
  secrets.Clear();
  watchdog_stop = true;
  if (watchdog.joinable()) watchdog.join();
  // Wake the signal thread if it is still waiting (boot failure path).
  exiting = true;
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  log::SetProgramName("cvm-agentd");
  // HTTP (relying parties, Azure IMDS) goes through the helper process, which runs libcurl so
  // that this process does not (common/http_helper.h); the first one is already starting
  // (SpawnHttpHelperEarly). The launcher holds it from here on, so that every way out of main
  // ends and reaps it.
  HttpHelperOptions http_helper;
  if (g_helper_found || FindHttpHelper(g_helper_path, sizeof g_helper_path)) {
    http_helper.path = g_helper_path;
  }
  // One connection (and TLS handshake) for a whole exchange, as Trustee's own client holds it.
  http_helper.keep_alive = true;
  std::shared_ptr<HttpHelperLauncher> launcher;
  if (g_early_helper.pid > 0 || g_early_helper.error != 0) {
    launcher = std::make_shared<HttpHelperLauncher>(http_helper, g_early_helper);
  }
  std::string config_path = kDefaultConfigPath;
  std::string check;
  StandardOptions standard;
  ArgParser parser("cvm-agentd", "[options]",
                   "Proves this confidential VM to a relying party at boot and hands the secrets "
                   "it releases\nto systemd units, cryptsetup, files and the local API.");
  parser.Option("config", 'c', "FILE",
                std::string("configuration file (default ") + kDefaultConfigPath + ")",
                &config_path);
  parser.Option("check-config", 0, "FILE", "validate FILE and exit (0 ok, 2 errors)", &check);
  AddStandardOptions(parser, &standard);
  parser.Epilog(
      "Exit status: 0 stopped cleanly or configuration ok, 1 attestation refused or deadline\n"
      "reached (nothing delivered), 2 configuration error, 3 no TEE or a needed device or\n"
      "socket unavailable. See docs/configuration.md and docs/api.md.\n");
  if (auto code = parser.Parse(argc, argv)) return *code;
  if (auto code = ApplyStandardOptions(standard, "cvm-agentd")) return *code;
  if (!check.empty()) return CheckConfig(check);
  auto config = LoadConfig(config_path);
  if (!config.ok()) {
    log::Error(config.status().message());
    return kExitUsage;
  }
  if (standard.log_level == "info") {
    if (auto level = log::ParseLevel(config->log_level); level.ok()) log::SetLevel(*level);
  }
  return Run(*config, http_helper, std::move(launcher));
}
