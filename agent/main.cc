// cvm-agentd: the guest attestation daemon.
#include <string>

#include "common/args.h"
#include "common/log.h"

namespace {

constexpr const char* kDefaultConfig = "/etc/cvm-agent/config.yaml";

}  // namespace

int main(int argc, char** argv) {
  cvm::log::SetProgramName("cvm-agentd");
  std::string config = kDefaultConfig;
  cvm::StandardOptions standard;
  cvm::ArgParser parser(
      "cvm-agentd", "[options]",
      "The guest attestation daemon. It is meant to collect attestation evidence inside a\n"
      "confidential VM and trade it with a relying party for disk-unlock keys and runtime\n"
      "secrets. NOT BUILT YET: this version parses its options, then fails closed (exit 3)\n"
      "without collecting evidence or releasing any secret. Use cvmctl to get and verify\n"
      "evidence today.");
  parser.Option("config", 'c', "FILE", "configuration file (default " + config + ")", &config);
  cvm::AddStandardOptions(parser, &standard);
  if (auto exit_code = parser.Parse(argc, argv)) return *exit_code;
  if (auto exit_code = cvm::ApplyStandardOptions(standard, "cvm-agentd")) return *exit_code;
  // Fail closed: until the evidence pipeline is built this daemon releases nothing.
  cvm::log::Error(
      "the attestation pipeline is not built yet; no evidence is collected and no secret is "
      "released");
  return cvm::kExitUnavailable;
}
