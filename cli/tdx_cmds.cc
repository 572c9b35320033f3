// cvmctl verbs for Intel TDX.
#include "cli/output.h"
#include "cli/tee_commands.h"

namespace cvm::cli {
namespace {
int NotBuilt() { return Fail(Unsupported("Intel TDX support is not built yet")); }
}  // namespace

int ShowTdxQuote(ByteSpan, const ShowOptions&) { return NotBuilt(); }
int VerifyTdxQuote(ByteSpan, const VerifyOptions&) { return NotBuilt(); }
int ShowTdReport(ByteSpan, const ShowOptions&) { return NotBuilt(); }
int RunSimTdx(std::string_view, Args) { return NotBuilt(); }

}  // namespace cvm::cli
