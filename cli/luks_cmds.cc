// cvmctl luks bind|unbind|show: binding LUKS2 volumes to the agent's resources (luks/bind.h).
// The key comes from the running cvm-agentd over its API socket (POST /v1/luks/key), the same
// request the token plugin makes, so a bind succeeds only for a volume the agent's configuration
// lists for that resource, after the VM attested.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "cli/commands.h"
#include "cli/output.h"
#include "common/args.h"
#include "common/file_util.h"
#include "common/http.h"
#include "luks/agent_client.h"
#include "luks/bind.h"
#include "luks/device.h"
#include "luks/provision.h"

namespace cvm::cli {

namespace {

using nlohmann::json;

// Parses "N" in [lo, hi]; nullopt when empty.
Result<std::optional<long>> ParseNumber(const std::string& s, const char* what, long lo, long hi) {
  if (s.empty()) return std::optional<long>();
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (end == s.c_str() || *end != '\0' || v < lo || v > hi) {
    return InvalidInput(std::string(what) + " must be a number from " + std::to_string(lo) +
                        " to " + std::to_string(hi) + ", got '" + s + "'");
  }
  return std::optional<long>(v);
}

// The options `bind` and `provision` share: how to reach the agent, how long to wait for it now,
// and what goes into the token and the keyslot.
struct AgentKeyFlags {
  std::string socket = luks::AgentSocketPath(), timeout, wait, iterations;

  explicit AgentKeyFlags(std::string default_wait) : wait(std::move(default_wait)) {}

  void Register(ArgParser& p, const char* wait_help) {
    p.Option("socket", 0, "PATH",
             "the agent's API socket (default $CVM_AGENT_SOCKET or /run/cvm-agent/api.sock)",
             &socket);
    p.Option("token-timeout", 0, "SECONDS",
             "how long the plugin waits for the agent at boot, written into the token (1-600; "
             "default: the plugin's 60)",
             &timeout);
    p.Option("wait", 0, "SECONDS", wait_help, &wait);
    p.Option("pbkdf-force-iterations", 0, "N",
             "PBKDF2 with N iterations instead of libcryptsetup's argon2id (the key is random, "
             "so the PBKDF adds little; for tests and small VMs)",
             &iterations);
  }
};

struct AgentKeyValues {
  int token_timeout_seconds = 0;  // 0: the plugin's default
  std::chrono::seconds wait{0};
  uint32_t pbkdf2_iterations = 0;  // 0: argon2id
};

Result<AgentKeyValues> ParseAgentKeyFlags(const AgentKeyFlags& f) {
  auto t = ParseNumber(f.timeout, "--token-timeout", 1, luks::kMaxTimeoutSeconds);
  if (!t.ok()) return t.status();
  auto w = ParseNumber(f.wait, "--wait", 1, 3600);
  if (!w.ok()) return w.status();
  auto it = ParseNumber(f.iterations, "--pbkdf-force-iterations", 1000, 100000000);
  if (!it.ok()) return it.status();
  AgentKeyValues v;
  v.token_timeout_seconds = t->has_value() ? static_cast<int>(**t) : 0;
  v.wait = std::chrono::seconds(w->value_or(0));
  v.pbkdf2_iterations = it->has_value() ? static_cast<uint32_t>(**it) : 0;
  return v;
}

int Bind(Args args) {
  std::vector<std::string> pos;
  std::string resource, key_file;
  AgentKeyFlags flags("60");
  bool generate = false;
  ArgParser p("cvmctl luks bind", "DEVICE --resource R --key-file F [--generate] [options]",
              "Adds a keyslot to the LUKS2 volume DEVICE (a block device or an image file) for "
              "the key that\nthe running cvm-agentd serves for resource R, and writes the cvm "
              "token that lets the token\nplugin unlock it at boot. The agent's configuration "
              "must list the volume's UUID for R\n(sinks.cryptsetup.uuid).");
  p.Positionals("DEVICE", 1, 1, &pos);
  p.Option("resource", 'r', "R", "the agent's resource that holds the key (required)", &resource);
  p.Option("key-file", 'k', "F",
           "a file with an existing passphrase or key of the volume (required)", &key_file);
  p.Flag("generate", 0,
         "R is a per-VM resource ({vm_id}/type/tag): have the relying party generate this VM's "
         "key first\n(kept if it already holds one), as `cvmctl luks provision` does",
         &generate);
  flags.Register(p, "how long to wait for the agent's key now (default 60)");
  if (auto code = p.Parse(args)) return *code;
  if (resource.empty()) return Fail(InvalidInput("--resource is required"));
  if (key_file.empty()) return Fail(InvalidInput("--key-file is required"));
  auto values = ParseAgentKeyFlags(flags);
  if (!values.ok()) return Fail(values.status());
  const std::string& socket = flags.socket;

  auto existing = ReadSecretFile(key_file, 8192);
  if (!existing.ok()) return Fail(existing.status());
  auto device = luks::Device::Open(pos[0]);
  if (!device.ok()) return Fail(device.status());
  auto facts = luks::SegmentFacts(*device, luks::HeaderPolicy{});
  if (!facts.ok()) return Fail(facts.status());
  for (const auto& token : device->CvmTokens()) {
    if (token.parsed.ok() && token.parsed->resource == resource) {
      return Fail(InvalidInput(pos[0] + " is already bound to resource '" + resource + "' (token " +
                               std::to_string(token.id) + "): unbind it first"));
    }
  }
  if (generate) {
    auto answer = luks::ProvisionVolumeKey(*NewCurlHttpClient(), socket, resource, values->wait);
    if (!answer.ok()) return Fail(answer.status());
    if (answer->uuid != facts->uuid) {
      return Fail(InvalidInput("the agent's configuration names volume " + answer->uuid +
                               " for resource '" + resource + "', not " + pos[0] + " (UUID " +
                               facts->uuid + ")"));
    }
    std::printf("%s\n", answer->created
                            ? "the relying party generated this VM's key"
                            : "the relying party already held a key for this VM: binding that one");
  }

  luks::VolumeKeyRequest req;
  req.socket = socket;
  req.resource = resource;
  req.uuid = facts->uuid;
  req.ciphers = facts->ciphers;
  req.timeout = values->wait;
  auto key = luks::FetchVolumeKey(*NewCurlHttpClient(), req);
  if (!key.ok()) return Fail(key.status());

  luks::BindOptions options;
  options.resource = resource;
  options.timeout_seconds = values->token_timeout_seconds;
  options.pbkdf.pbkdf2_iterations = values->pbkdf2_iterations;
  auto bound = luks::Bind(*device, *existing, *key, options, luks::HeaderPolicy{});
  if (!bound.ok()) return Fail(bound.status());
  std::printf("bound %s (UUID %s) to resource '%s': keyslot %d, token %d\n", pos[0].c_str(),
              bound->token.uuid.c_str(), resource.c_str(), bound->keyslot, bound->token_id);
  return kExitOk;
}

int Provision(Args args) {
  std::vector<std::string> pos;
  std::string resource;
  AgentKeyFlags flags("300");
  bool force = false;
  ArgParser p("cvmctl luks provision", "DEVICE --resource R [--force] [options]",
              "First boot of a data disk: has the relying party generate this VM's key for the "
              "per-VM resource R\n({vm_id}/type/tag in the agent's configuration) through the "
              "running cvm-agentd, formats the blank\nDEVICE as LUKS2 with the UUID the "
              "configuration names for R (sinks.cryptsetup.uuid) and that key,\nand writes the "
              "cvm token, so the token plugin unlocks it at every later boot.\n"
              "A device that is already provisioned for R is left alone (exit 0); any other "
              "device that is not\nblank (its first MiB not all zeros) is refused (exit 2) "
              "unless --force.");
  p.Positionals("DEVICE", 1, 1, &pos);
  p.Option("resource", 'r', "R", "the agent's per-VM resource for this disk (required)", &resource);
  p.Flag("force", 0,
         "format DEVICE even if it is not blank or already provisioned (destroys its data)",
         &force);
  flags.Register(p, "how long to wait for the agent and the relying party now (default 300)");
  if (auto code = p.Parse(args)) return *code;
  if (resource.empty()) return Fail(InvalidInput("--resource is required"));
  auto values = ParseAgentKeyFlags(flags);
  if (!values.ok()) return Fail(values.status());
  const std::string& socket = flags.socket;

  auto state = luks::InspectForProvision(pos[0], resource, luks::HeaderPolicy{});
  if (!state.ok()) return Fail(state.status());
  using Kind = luks::DeviceState::Kind;
  if (state->kind == Kind::kProvisioned && !force) {
    std::printf("%s is already provisioned: %s (nothing done)\n", pos[0].c_str(),
                state->description.c_str());
    return kExitOk;
  }
  if (state->kind == Kind::kOther && !force) {
    return Fail(InvalidInput(pos[0] + " is not blank: it holds " + state->description +
                             "; provisioning would destroy it (--force to format anyway)"));
  }
  auto deadline = std::chrono::steady_clock::now() + values->wait;
  auto http = NewCurlHttpClient();
  auto answer = luks::ProvisionVolumeKey(*http, socket, resource, values->wait);
  if (!answer.ok()) return Fail(answer.status());

  luks::VolumeKeyRequest req;
  req.socket = socket;
  req.resource = resource;
  req.uuid = answer->uuid;
  req.ciphers = {"aes-xts-plain64"};  // what FormatAndBind formats with
  req.timeout = std::max(std::chrono::milliseconds(1000),
                         std::chrono::duration_cast<std::chrono::milliseconds>(
                             deadline - std::chrono::steady_clock::now()));
  auto key = luks::FetchVolumeKey(*http, req);
  if (!key.ok()) return Fail(key.status());

  luks::ProvisionOptions options;
  options.resource = resource;
  options.uuid = answer->uuid;
  options.timeout_seconds = values->token_timeout_seconds;
  options.pbkdf.pbkdf2_iterations = values->pbkdf2_iterations;
  auto bound = luks::FormatAndBind(pos[0], *key, options, luks::HeaderPolicy{});
  if (!bound.ok()) return Fail(bound.status());
  std::printf("provisioned %s: LUKS2 UUID %s, keyslot %d, token %d for resource '%s' (%s)\n",
              pos[0].c_str(), bound->token.uuid.c_str(), bound->keyslot, bound->token_id,
              resource.c_str(),
              answer->created ? "a new key from the relying party"
                              : "the key the relying party already held for this VM");
  return kExitOk;
}

int Unbind(Args args) {
  std::vector<std::string> pos;
  std::string resource, token;
  bool keep = false;
  ArgParser p("cvmctl luks unbind", "DEVICE (--resource R | --token ID) [--keep-keyslots]",
              "Removes a cvm token from the LUKS2 volume DEVICE and the keyslots it names.");
  p.Positionals("DEVICE", 1, 1, &pos);
  p.Option("resource", 'r', "R", "the token bound to this resource", &resource);
  p.Option("token", 0, "ID", "the token with this id (e.g. a malformed one)", &token);
  p.Flag("keep-keyslots", 0, "remove only the token, keep its keyslots", &keep);
  if (auto code = p.Parse(args)) return *code;
  if (resource.empty() == token.empty()) {
    return Fail(InvalidInput("give exactly one of --resource and --token"));
  }
  auto id = ParseNumber(token, "--token", 0, 31);
  if (!id.ok()) return Fail(id.status());
  auto device = luks::Device::Open(pos[0]);
  if (!device.ok()) return Fail(device.status());
  int found = -1;
  for (const auto& t : device->CvmTokens()) {
    if (id->has_value() ? t.id == **id : t.parsed.ok() && t.parsed->resource == resource) {
      found = t.id;
    }
  }
  if (found < 0) {
    return Fail(NotFound(pos[0] + " has no cvm token " +
                         (resource.empty() ? token : "for resource '" + resource + "'")));
  }
  Status s = luks::Unbind(*device, found, keep);
  if (!s.ok()) return Fail(s);
  std::printf("removed cvm token %d from %s%s\n", found, pos[0].c_str(),
              keep ? " (keyslots kept)" : " and its keyslots");
  return kExitOk;
}

int Show(Args args) {
  std::vector<std::string> pos;
  bool as_json = false;
  ArgParser p("cvmctl luks show", "DEVICE [--json]",
              "Lists the cvm tokens of the LUKS2 volume DEVICE and checks its header as the "
              "token plugin\nwill (null ciphers, linear segments, the UUID recorded at bind "
              "time). Exit 1 when a token\nwould be refused.");
  p.Positionals("DEVICE", 1, 1, &pos);
  p.Flag("json", 0, "print one JSON object", &as_json);
  if (auto code = p.Parse(args)) return *code;
  auto device = luks::Device::Open(pos[0]);
  if (!device.ok()) return Fail(device.status());
  auto meta = device->MetadataJson();
  if (!meta.ok()) return Fail(meta.status());
  json out = {{"device", pos[0]}, {"uuid", device->Uuid()}, {"tokens", json::array()}};
  bool all_ok = true;
  for (const auto& t : device->CvmTokens()) {
    json e = {{"id", t.id}};
    if (!t.parsed.ok()) {
      e["ok"] = false;
      e["error"] = t.parsed.status().ToString();
      all_ok = false;
    } else {
      auto check = luks::CheckHeader(*meta, device->Uuid(), *t.parsed, luks::HeaderPolicy{});
      e["resource"] = t.parsed->resource;
      e["keyslots"] = t.parsed->keyslots;
      e["bound_uuid"] = t.parsed->uuid;
      e["timeout_seconds"] = t.parsed->timeout_seconds;
      e["ok"] = check.ok();
      if (check.ok()) {
        e["ciphers"] = check->ciphers;
      } else {
        e["error"] = check.status().ToString();
        all_ok = false;
      }
    }
    out["tokens"].push_back(e);
  }
  if (as_json) {
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("%s: LUKS2, UUID %s\n", pos[0].c_str(), device->Uuid().c_str());
    if (out["tokens"].empty()) std::printf("no cvm token\n");
    for (const auto& e : out["tokens"]) {
      if (!e.contains("resource")) {
        std::printf("token %d: INVALID: %s\n", e["id"].get<int>(),
                    e["error"].get<std::string>().c_str());
        continue;
      }
      std::string slots;
      for (const auto& k : e["keyslots"]) {
        if (!slots.empty()) slots += ',';
        slots += k.dump();
      }
      std::printf("token %d: resource '%s', keyslots %s, timeout %d s: %s\n", e["id"].get<int>(),
                  e["resource"].get<std::string>().c_str(), slots.c_str(),
                  e["timeout_seconds"].get<int>(),
                  e["ok"].get<bool>() ? "ok" : e["error"].get<std::string>().c_str());
    }
  }
  return all_ok ? kExitOk : kExitRejected;
}

}  // namespace

int RunLuks(Args args) {
  const char* usage =
      "Usage: cvmctl luks bind|unbind|show|provision DEVICE [options]\n"
      "  bind       add a keyslot for the agent's key of a resource and write the cvm token\n"
      "  provision  first boot: format a blank disk with a new per-VM key from the relying party\n"
      "  unbind     remove a cvm token and its keyslots\n"
      "  show       list the cvm tokens and check the header as the token plugin will\n"
      "Run 'cvmctl luks VERB --help' for the options.\n";
  return RunVerbs(args, "luks", usage,
                  {{"bind", Bind}, {"unbind", Unbind}, {"show", Show}, {"provision", Provision}});
}

}  // namespace cvm::cli
