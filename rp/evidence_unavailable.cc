// Built instead of evidence_adapters.cc while the evidence library has no implementation in this
// tree (rp/CMakeLists.txt decides): cvm-rp then validates configurations but cannot appraise
// evidence, and says so instead of serving.
#include "rp/evidence_adapters.h"

namespace cvm::rp {

Result<EvidenceBackends> MakeEvidenceBackends(const Config&, ossl::PKey) {
  return Unavailable(
      "this cvm-rp was built without the evidence library (VerifyBundle, JWE, JWT), so it "
      "cannot appraise evidence; rebuild it from a tree where evidence/ is implemented");
}

}  // namespace cvm::rp
