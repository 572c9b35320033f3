// cvmctl verbs for AMD SEV-SNP.
#include "cli/output.h"
#include "cli/tee_commands.h"

namespace cvm::cli {
namespace {
int NotBuilt() { return Fail(Unsupported("AMD SEV-SNP support is not built yet")); }
}  // namespace

int ShowSnpReport(ByteSpan, const ShowOptions&) { return NotBuilt(); }
int VerifySnpReport(ByteSpan, const VerifyOptions&) { return NotBuilt(); }
int RunSimSnp(std::string_view, Args) { return NotBuilt(); }
int RunSnp(Args) { return NotBuilt(); }

}  // namespace cvm::cli
