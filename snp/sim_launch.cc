#include "snp/sim_launch.h"

#include <algorithm>

#include "snp/idblock.h"

namespace cvm::snp {

Status ApplyIdBlock(SimReportRequest& request, ByteSpan id_block, ByteSpan id_auth,
                    bool author_key_en) {
  CVM_ASSIGN_OR_RETURN(SignedIdBlock checked, VerifyIdBlock(id_block, id_auth));
  if (!std::equal(request.measurement.begin(), request.measurement.end(), id_block.begin())) {
    return Rejected("SNP_LAUNCH_FINISH: the ID block's LD is not the launch digest");
  }
  if (LoadLe64(id_block, 0x58) != request.policy) {
    return Rejected("SNP_LAUNCH_FINISH: the ID block's POLICY is not the guest policy");
  }
  std::copy_n(id_block.begin() + 0x30, 16, request.family_id.begin());
  std::copy_n(id_block.begin() + 0x40, 16, request.image_id.begin());
  request.guest_svn = LoadLe32(id_block, 0x54);
  std::copy(checked.id_key_digest.begin(), checked.id_key_digest.end(),
            request.id_key_digest.begin());
  request.author_key_en = author_key_en;
  request.author_key_digest.fill(0);
  if (author_key_en) {
    std::copy(checked.author_key_digest.begin(), checked.author_key_digest.end(),
              request.author_key_digest.begin());
  }
  return Status::Ok();
}

}  // namespace cvm::snp
