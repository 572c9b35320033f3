// `cvmctl report get`: a live report from inside a guest, the operator's equivalent of
// `snpguest report`. Goes through the provider factories (snp/provider.h, tdx/provider.h), whose
// system-call seams tests replace with fakes.
#pragma once

#include <string>

#include "cli/commands.h"
#include "common/bytes.h"
#include "common/tsm.h"
#include "snp/provider.h"

namespace cvm::cli {

struct LiveEvidence {
  std::string tee;       // "snp" or "tdx"
  std::string provider;  // the provider's name ("configfs-tsm", "sev-guest ioctl")
  Bytes evidence;        // the raw SNP report or TDX quote
  Bytes cert_table;      // SNP: the host's certificate table (may be empty); TDX: empty
};

// Asks this guest's TEE for evidence carrying `report_data` (at most 64 bytes, zero-padded):
// SNP through snp::NewReportProvider (configfs-tsm, else /dev/sev-guest, with the host's
// certificates), else TDX through tdx::NewQuoteProvider (configfs-tsm). kUnavailable ("no TEE
// guest interface") when neither exists; the provider's error otherwise.
Result<LiveEvidence> GetLiveEvidence(TsmFs& fs, snp::SevGuestSys& sys, ByteSpan report_data,
                                     const std::string& tsm_root = kTsmReportRoot);

// The verb, with its seams: `args` are the arguments after "get".
int ReportGet(Args args, TsmFs& fs, snp::SevGuestSys& sys,
              const std::string& tsm_root = kTsmReportRoot);

}  // namespace cvm::cli
