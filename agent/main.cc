// cvm-agentd: the guest attestation daemon.
#include <cstdio>
#include <string>

#include "common/args.h"
#include "common/log.h"

namespace {

constexpr const char* kDefaultConfig = "/etc/cvm-agent/config.yaml";

}  // namespace

int main(int argc, char** argv) {
  cvm::log::SetProgramName("cvm-agentd");
  std::string config = kDefaultConfig;
  std::string log_level = "info";
  bool version = false;
  cvm::ArgParser parser(
      "cvm-agentd", "[options]",
      "Collects attestation evidence inside a confidential VM and trades it with a\n"
      "relying party for disk-unlock keys and runtime secrets.");
  parser.Option("config", 'c', "FILE", "configuration file (default " + config + ")", &config);
  parser.Option("log-level", 0, "LEVEL", "error, warning, notice, info or debug (default info)",
                &log_level);
  parser.Flag("version", 0, "print the version and exit", &version);
  if (auto exit_code = parser.Parse(argc, argv)) return *exit_code;
  if (version) {
    std::printf("cvm-agentd %s\n", cvm::Version());
    return cvm::kExitOk;
  }
  auto level = cvm::log::ParseLevel(log_level);
  if (!level.ok()) {
    cvm::log::Error(level.status().ToString());
    return cvm::kExitUsage;
  }
  cvm::log::SetLevel(*level);
  // Fail closed: until the evidence pipeline is built this daemon releases nothing.
  cvm::log::Error(
      "the attestation pipeline is not built yet; no evidence is collected and no "
      "secret is released");
  return cvm::kExitUnavailable;
}
