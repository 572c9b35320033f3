// cvmctl verbs for the vTPM: quotes, PCRs, event logs, Azure HCL reports.
#include "cli/output.h"
#include "cli/tee_commands.h"

namespace cvm::cli {
namespace {
int NotBuilt() { return Fail(Unsupported("vTPM support is not built yet")); }
}  // namespace

int ShowAzureHcl(ByteSpan, const ShowOptions&) { return NotBuilt(); }
int VerifyAzureHcl(ByteSpan, const VerifyOptions&) { return NotBuilt(); }
int RunTpm(Args) { return NotBuilt(); }
int RunEventlog(Args) { return NotBuilt(); }

}  // namespace cvm::cli
