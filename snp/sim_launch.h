// The simulated SNP_LAUNCH_FINISH: what the firmware does with an ID block before the guest runs,
// so tests and demos can launch the simulator (sim.h) with a block signed by 'cvmctl idblock'.
#pragma once

#include "common/bytes.h"
#include "snp/sim.h"

namespace cvm::snp {

// Checks `id_block` and `id_auth` as the firmware does (VerifyIdBlock in idblock.h; the block's
// LD must equal request.measurement and its POLICY request.policy) and on success fills the
// request's FAMILY_ID, IMAGE_ID, GUEST_SVN and ID_KEY_DIGEST, and with `author_key_en` also
// AUTHOR_KEY_DIGEST and the AUTHOR_KEY_EN bit. kRejected (the launch fails) when a check fails,
// kInvalidInput for malformed structures; the request is unchanged on failure.
Status ApplyIdBlock(SimReportRequest& request, ByteSpan id_block, ByteSpan id_auth,
                    bool author_key_en = true);

}  // namespace cvm::snp
