#include "tests/tpm/replay_util.h"

namespace cvm::testing {

Status ReplayIntoTpm(tpm::Tpm& tpm, const tcg::EventLog& log, uint32_t first, uint32_t last) {
  for (const tcg::Event& e : log.events) {
    if (e.type == tcg::kEvNoAction || e.index < first || e.index > last) continue;
    std::map<DigestAlg, Bytes> digests;
    for (const tcg::EventDigest& d : e.digests) {
      if (auto alg = tcg::DigestAlgFromTpm(d.alg_id)) digests[*alg] = d.digest;
    }
    CVM_RETURN_IF_ERROR(tpm.ExtendPcr(e.index, digests));
  }
  return Status::Ok();
}

}  // namespace cvm::testing
