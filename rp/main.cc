// cvm-rp: the reference relying party.
#include <cstdio>
#include <string>

#include "common/args.h"
#include "common/log.h"

int main(int argc, char** argv) {
  cvm::log::SetProgramName("cvm-rp");
  std::string config;
  std::string listen = "127.0.0.1:0";
  std::string log_level = "info";
  bool version = false;
  cvm::ArgParser parser("cvm-rp", "[options]",
                        "A reference relying party: verifies evidence from cvm-agentd against a\n"
                        "policy and releases the secrets the policy allows.");
  parser.Option("config", 'c', "FILE", "relying-party configuration (policy and secrets)", &config);
  parser.Option("listen", 'l', "ADDR:PORT", "address to listen on (default 127.0.0.1:0)", &listen);
  parser.Option("log-level", 0, "LEVEL", "error, warning, notice, info or debug (default info)",
                &log_level);
  parser.Flag("version", 0, "print the version and exit", &version);
  if (auto exit_code = parser.Parse(argc, argv)) return *exit_code;
  if (version) {
    std::printf("cvm-rp %s\n", cvm::Version());
    return cvm::kExitOk;
  }
  auto level = cvm::log::ParseLevel(log_level);
  if (!level.ok()) {
    cvm::log::Error(level.status().ToString());
    return cvm::kExitUsage;
  }
  cvm::log::SetLevel(*level);
  cvm::log::Error("the relying-party protocol is not built yet; refusing to serve");
  return cvm::kExitUnavailable;
}
