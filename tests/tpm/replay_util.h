// Test helper: puts an event log's measurements into a TPM, so its quoted PCRs match the log.
#pragma once

#include <cstdint>

#include "common/tcg_eventlog.h"
#include "tpm/tpm.h"

namespace cvm::testing {

// Extends every event of `log` whose PCR index is in [first, last] (EV_NO_ACTION skipped), with
// the digests of the banks the TPM and we both know. REQUIRES: those PCRs start at zero.
Status ReplayIntoTpm(tpm::Tpm& tpm, const tcg::EventLog& log, uint32_t first, uint32_t last);

}  // namespace cvm::testing
