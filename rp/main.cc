// cvm-rp: the reference relying party, a server of the Trustee KBS protocol (RCAR 0.4.0).
// Thin: parse options, load the configuration, wire the core to the evidence adapters, serve
// until SIGTERM/SIGINT, reload policy and resources on SIGHUP. Exit codes as every cvm-agent
// executable (common/args.h): 0 ok, 2 unusable configuration, 3 cannot serve, 4 internal.
#include <signal.h>

#include <cstdio>
#include <string>

#include "common/args.h"
#include "common/clock.h"
#include "common/log.h"
#include "rp/audit.h"
#include "rp/config.h"
#include "rp/evidence_adapters.h"
#include "rp/http_server.h"
#include "rp/kbs_service.h"
#include "rp/policy.h"
#include "rp/sessions.h"

namespace {

using namespace cvm;      // NOLINT(google-build-using-namespace): a thin main
using namespace cvm::rp;  // NOLINT(google-build-using-namespace)

// Everything --check-config validates, in the order serving would need it.
struct Loaded {
  Config config;
  std::shared_ptr<const Policy> policy;
  std::shared_ptr<const ResourceStore> resources;
};

Result<Loaded> LoadAll(const std::string& file) {
  Loaded out;
  CVM_ASSIGN_OR_RETURN(out.config, LoadConfig(file));
  CVM_ASSIGN_OR_RETURN(Policy policy, LoadPolicy(out.config.policy));
  out.policy = std::make_shared<const Policy>(std::move(policy));
  CVM_ASSIGN_OR_RETURN(out.resources, LoadResources(out.config));
  CVM_RETURN_IF_ERROR(LoadCertificates(out.config.snp_roots).status());
  CVM_RETURN_IF_ERROR(LoadCertificates(out.config.tdx_roots).status());
  CVM_RETURN_IF_ERROR(LoadCrls(out.config.crls).status());
  CVM_RETURN_IF_ERROR(LoadTdxCollateral(out.config).status());
  return out;
}

int CheckConfig(const std::string& file) {
  auto loaded = LoadAll(file);
  if (!loaded.ok()) {
    log::Error(loaded.status().ToString());
    return kExitUsage;
  }
  const Config& c = loaded->config;
  bool created = false;
  auto key = LoadOrCreateTokenKey(c.token_key, /*create=*/false, &created);
  std::string key_note = "token key " + c.token_key;
  if (!key.ok()) {
    if (key.status().code() != Code::kNotFound) {
      log::Error(key.status().ToString());
      return kExitUsage;
    }
    key_note += " (absent: it will be generated)";
  }
  std::printf("%s: ok (policy %s: %zu resource rule(s)%s; %zu resource(s); %s)\n", file.c_str(),
              c.policy.c_str(), loaded->policy->resources.size(),
              loaded->policy->default_rule ? " and a default" : "", loaded->resources->size(),
              key_note.c_str());
  return kExitOk;
}

int Serve(const std::string& file) {
  auto loaded = LoadAll(file);
  if (!loaded.ok()) {
    log::Error(loaded.status().ToString());
    return kExitUsage;
  }
  const Config& config = loaded->config;
  bool created = false;
  auto key = LoadOrCreateTokenKey(config.token_key, /*create=*/true, &created);
  if (!key.ok()) {
    log::Error(key.status().ToString());
    return kExitUsage;
  }
  if (created) {
    log::Notice("generated a new ES256 token signing key in " + config.token_key +
                " (tokens issued before this start are no longer accepted)");
  }
  auto backends = MakeEvidenceBackends(config, std::move(key).value());
  if (!backends.ok()) {
    log::Error(backends.status().ToString());
    return backends.status().code() == Code::kUnavailable ? kExitUnavailable : kExitUsage;
  }
  const Clock& clock = SystemClock::Get();
  auto audit = AuditLog::Open(config.audit_log, clock);
  if (!audit.ok()) {
    log::Error(audit.status().ToString());
    return kExitUsage;
  }
  SessionStore sessions(clock, config.session_timeout, config.max_sessions);
  ServiceOptions service_options;
  service_options.token_lifetime = config.token_lifetime;
  service_options.issuer = config.issuer;
  service_options.diagnostic_header = config.diagnostic_header;
  KbsService service(clock, sessions, *backends->appraiser, *backends->sealer, *backends->signer,
                     **audit, service_options, loaded->policy, loaded->resources);

  if (config.vm_resources) {
    auto store = VmResourceStore::Open(*config.vm_resources);
    if (!store.ok()) {
      log::Error(store.status().ToString());
      return kExitUsage;
    }
    service.EnableVmResources(std::shared_ptr<VmResourceStore>(std::move(store).value()));
    log::Notice("cvm-rp: per-VM resources in " + config.vm_resources->dir);
  }

  // Signals are taken by this thread only (sigwait); the server threads inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = HttpServer::Start(ServerOptionsFor(config),
                                  [&service](const HttpIn& in) { return service.Handle(in); });
  if (!server.ok()) {
    log::Error(server.status().ToString());
    return server.status().code() == Code::kUnavailable ? kExitUnavailable : kExitUsage;
  }
  auto ports = (*server)->ports();
  for (size_t i = 0; i < ports.size(); ++i) {
    const Listener& l = config.listen[i];
    log::Notice(std::string("cvm-rp: serving the KBS protocol on ") + (l.tls ? "https" : "http") +
                "://" + l.address + ":" + std::to_string(ports[i]) + "/kbs/v0/");
  }
  while (true) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      // Policy and resources are reloaded; listeners, keys and limits need a restart.
      auto reloaded = LoadConfig(file);
      Result<Policy> policy =
          reloaded.ok() ? LoadPolicy(reloaded->policy) : Result<Policy>(reloaded.status());
      if (!policy.ok()) {
        log::Error("reload refused, keeping the running policy: " + policy.status().ToString());
        continue;
      }
      auto resources = LoadResources(*reloaded);
      if (!resources.ok()) {
        log::Error("reload refused, keeping the running resources: " +
                   resources.status().ToString());
        continue;
      }
      service.Reload(std::make_shared<const Policy>(std::move(policy).value()), *resources);
      log::Notice("cvm-rp: reloaded policy " + reloaded->policy + " and " +
                  std::to_string((*resources)->size()) + " resource(s)");
      continue;
    }
    log::Notice("cvm-rp: stopping");
    (*server)->Stop();
    return kExitOk;
  }
}

}  // namespace

int main(int argc, char** argv) {
  log::SetProgramName("cvm-rp");
  std::string config, check;
  StandardOptions standard;
  ArgParser parser("cvm-rp", "--config FILE | --check-config FILE [options]",
                   "The reference relying party: a server of the Trustee KBS attestation protocol\n"
                   "(RCAR 0.4.0) that appraises evidence against a policy and releases resources\n"
                   "encrypted to the attested TEE's key.");
  parser.Option("config", 'c', "FILE", "serve with this configuration (YAML)", &config);
  parser.Option("check-config", 0, "FILE",
                "validate the configuration, its policy, resources and trust anchors, then exit "
                "(0 valid, 2 not)",
                &check);
  AddStandardOptions(parser, &standard);
  parser.Epilog(
      "Signals: SIGHUP reloads the policy and resources; SIGTERM/SIGINT stop gracefully.\n"
      "Exit codes: 0 ok, 2 unusable configuration, 3 cannot serve (address in use), 4 internal\n"
      "error. See docs/relying-party.md.");
  if (auto exit_code = parser.Parse(argc, argv)) return *exit_code;
  if (auto exit_code = ApplyStandardOptions(standard, "cvm-rp")) return *exit_code;
  if (config.empty() == check.empty()) {
    log::Error("give exactly one of --config FILE or --check-config FILE (see --help)");
    return kExitUsage;
  }
  if (!check.empty()) return CheckConfig(check);
  return Serve(config);
}
