// The real cvm-rp as a child process on a loopback port, and a simulated SEV-SNP platform for the
// real cvm-agentd: what the end-to-end tests (agent, luks) start in their temporary directory.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/agent/child_process.h"
#include "tests/testing/testing.h"

namespace cvm::luks::testing {

using ::cvm::agent::testing::ChildProcess;

// The simulator's launch measurement (all zeros) and one no simulated VM has.
extern const char kZeroMeasurement[];
extern const char kOtherMeasurement[];
// The secret cvm-rp releases at default/key/app.
extern const char kRpSecret[];

// dir/sim: a simulated SEV-SNP platform (Genoa, the simulator's defaults).
void CreateSimSnp(const ::cvm::testing::TempDir& dir);

// A relying party (cvm-rp) in `dir` whose policy accepts exactly `measurement`, serving on a
// port the kernel picks; the simulated SNP platform's ARK in dir/sim is its only SNP root. It
// releases kRpSecret at default/key/app; dir/token.pub verifies its tokens.
struct RelyingPartyOptions {
  std::vector<std::string> measurements;  // accepted SNP measurements (hex)
  bool vm_resources = false;              // serve per-VM resources from dir/vm-resources
};

class RelyingParty {
 public:
  RelyingParty(const ::cvm::testing::TempDir& dir, const std::string& measurement);
  RelyingParty(const ::cvm::testing::TempDir& dir, const RelyingPartyOptions& options);
  const std::string& url() const { return url_; }
  std::string Log() const { return process_->Log(); }

 private:
  std::unique_ptr<ChildProcess> process_;
  std::string url_;
};

}  // namespace cvm::luks::testing
