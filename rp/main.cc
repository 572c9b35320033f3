// cvm-rp: the reference relying party.
#include <string>

#include "common/args.h"
#include "common/log.h"

int main(int argc, char** argv) {
  cvm::log::SetProgramName("cvm-rp");
  std::string config;
  std::string listen = "127.0.0.1:0";
  cvm::StandardOptions standard;
  cvm::ArgParser parser("cvm-rp", "[options]",
                        "The reference relying party. It is meant to verify evidence from\n"
                        "cvm-agentd against a policy and release the secrets the policy allows.\n"
                        "NOT BUILT YET: this version parses its options, then refuses to serve\n"
                        "(exit 3). 'cvmctl verify' verifies evidence offline today.");
  parser.Option("config", 'c', "FILE", "relying-party configuration (policy and secrets)", &config);
  parser.Option("listen", 'l', "ADDR:PORT", "address to listen on (default 127.0.0.1:0)", &listen);
  cvm::AddStandardOptions(parser, &standard);
  if (auto exit_code = parser.Parse(argc, argv)) return *exit_code;
  if (auto exit_code = cvm::ApplyStandardOptions(standard, "cvm-rp")) return *exit_code;
  cvm::log::Error("the relying-party protocol is not built yet; refusing to serve");
  return cvm::kExitUnavailable;
}
