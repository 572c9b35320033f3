// cvmctl: the operator's command-line tool.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/args.h"
#include "common/log.h"

namespace {

struct Group {
  const char* name;
  const char* summary;
  int (*run)(cvm::cli::Args);
};

constexpr Group kGroups[] = {
    {"report",
     "report show FILE: decode an SNP report, TDX quote/TDREPORT or Azure HCL report;\n"
     "            report get --report-data HEX: a live report inside a guest",
     cvm::cli::RunReport},
    {"verify", "verify FILE: verify evidence offline (signatures, chain, TCB, policy)",
     cvm::cli::RunVerify},
    {"sim", "sim init|report|quote|collateral: simulated SNP and TDX for tests and demos",
     cvm::cli::RunSim},
    {"snp", "snp fetch-certs FILE: fetch VCEK and chain from AMD KDS (cached)", cvm::cli::RunSnp},
    {"tpm", "tpm quote|pcrs|verify|hcl-report: TPM2 quotes, PCRs, Azure HCL reports",
     cvm::cli::RunTpm},
    {"eventlog", "eventlog replay FILE: replay a TCG or CCEL event log", cvm::cli::RunEventlog},
    {"measure", "measure snp|snp-ovmf-hash|sev|sev-es: expected launch digest of an image",
     cvm::cli::RunMeasure},
    {"idblock", "idblock --measurement HEX --id-key F --author-key F: sign an SNP ID block",
     cvm::cli::RunIdblock},
    {"policy", "policy generate: relying-party expected values (SNP YAML, Trustee)",
     cvm::cli::RunPolicy},
    {"gpu", "gpu verify|rim verify|evidence|ready: NVIDIA confidential-computing GPUs",
     cvm::cli::RunGpu},
    {"kbs", "kbs attest|get-resource: the KBS (Trustee RCAR) client, for scripts",
     cvm::cli::RunKbs},
    {"status", "status [--json]: what the running cvm-agentd is doing", cvm::cli::RunStatus},
    {"evidence", "evidence --nonce N [-o F]: fresh evidence from the running cvm-agentd",
     cvm::cli::RunEvidence},
    {"secrets", "secrets list: the resources cvm-agentd delivers", cvm::cli::RunSecrets},
    {"attest", "attest: ask cvm-agentd to re-attest now", cvm::cli::RunAttest},
    {"luks", "luks bind|unbind|show DEVICE: LUKS2 volumes unlocked by the agent's keys",
     cvm::cli::RunLuks},
};

std::string Usage() {
  std::string out =
      "Usage: cvmctl [--log-level LEVEL] COMMAND [ARGS...]\n"
      "       cvmctl --help | --version\n\n"
      "Inspect and verify confidential-VM attestation evidence.\n\nCommands:\n";
  for (const auto& g : kGroups) {
    std::string name = std::string("  ") + g.name;
    name.resize(12, ' ');
    out += name + g.summary + "\n";
  }
  out +=
      "\nRun 'cvmctl COMMAND --help' for a command's options.\n"
      "Exit status: 0 ok/verified, 1 rejected, 2 unusable input, 3 unavailable, 4 internal "
      "error.\n";
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  cvm::log::SetProgramName("cvmctl");
  // tpm2-tss logs every failure to stderr by itself; our statuses already carry the decoded code,
  // so keep its log quiet unless the user asked for it (it reads TSS2_LOG on first use).
  ::setenv("TSS2_LOG", "all+none", /*overwrite=*/0);
  std::vector<std::string> args(argv + 1, argv + argc);
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::fputs(Usage().c_str(), stdout);
      return cvm::kExitOk;
    }
    if (a == "--version") {
      std::printf("cvmctl %s\n", cvm::Version());
      return cvm::kExitOk;
    }
    if (a == "--log-level" || a.rfind("--log-level=", 0) == 0) {
      std::string value;
      if (a == "--log-level") {
        if (i + 1 == args.size()) {
          std::fputs("cvmctl: option '--log-level' needs a value (LEVEL)\n", stderr);
          return cvm::kExitUsage;
        }
        value = args[++i];
      } else {
        value = a.substr(12);
      }
      auto level = cvm::log::ParseLevel(value);
      if (!level.ok()) {
        std::fprintf(stderr, "cvmctl: %s\n", level.status().ToString().c_str());
        return cvm::kExitUsage;
      }
      cvm::log::SetLevel(*level);
      continue;
    }
    if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "cvmctl: unknown option '%s'\nTry 'cvmctl --help'.\n", a.c_str());
      return cvm::kExitUsage;
    }
    break;
  }
  if (i == args.size()) {
    std::fputs(Usage().c_str(), stderr);
    return cvm::kExitUsage;
  }
  for (const auto& g : kGroups) {
    if (args[i] == g.name) {
      return g.run(cvm::cli::Args(args).subspan(i + 1));
    }
  }
  std::fprintf(stderr, "cvmctl: unknown command '%s'\nTry 'cvmctl --help'.\n", args[i].c_str());
  return cvm::kExitUsage;
}
