// The command groups of cvmctl. Each takes the arguments after its verb and returns the process
// exit code (common/args.h: 0 ok, 1 rejected, 2 unusable input, 3 unavailable, 4 internal).
#pragma once

#include <span>
#include <string>

namespace cvm::cli {

using Args = std::span<const std::string>;

int RunReport(Args args);    // report show FILE
int RunVerify(Args args);    // verify FILE
int RunSim(Args args);       // sim init|report|quote|collateral
int RunSnp(Args args);       // snp fetch-certs
int RunTpm(Args args);       // tpm quote|pcrs
int RunEventlog(Args args);  // eventlog replay
int RunMeasure(Args args);   // measure snp|snp-ovmf-hash|sev|sev-es
int RunIdblock(Args args);   // idblock --measurement HEX --id-key F --author-key F
int RunPolicy(Args args);    // policy generate
int RunGpu(Args args);       // gpu verify|rim verify|evidence|ready
int RunKbs(Args args);       // kbs attest|get-resource
// Online verbs: a running cvm-agentd over its API socket (cli/agent_cmds.cc).
int RunStatus(Args args);    // status [--json]
int RunEvidence(Args args);  // evidence --nonce N [-o F]
int RunSecrets(Args args);   // secrets list
int RunAttest(Args args);    // attest
int RunLuks(Args args);      // luks bind|unbind|show (cli/luks_cmds.cc)

}  // namespace cvm::cli
