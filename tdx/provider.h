// Quote providers: where a TDX guest gets a DCAP quote for its report data. Like go-tdx-guest's
// client package, callers see one interface and a factory picks the kernel interface.
#pragma once

#include <memory>

#include "common/bytes.h"
#include "common/status.h"
#include "common/tsm.h"

namespace cvm::tdx {

class QuoteProvider {
 public:
  virtual ~QuoteProvider() = default;
  // A raw quote whose REPORTDATA is `report_data` (64 bytes). The bytes are as the kernel
  // returned them; callers parse and verify them.
  virtual Result<Bytes> GetQuote(ByteSpan report_data) = 0;
};

// configfs-tsm (Linux 6.7+): provider "tdx_guest", with the generation check against racing
// writers. `fs` must outlive the provider.
std::unique_ptr<QuoteProvider> NewTsmQuoteProvider(TsmFs& fs, std::string root = kTsmReportRoot);

// The provider for this machine: configfs-tsm when available. kNotFound otherwise (the older
// TDX_CMD_GET_QUOTE ioctl was removed from Linux in favour of configfs-tsm, so there is no
// fallback for quotes; /dev/tdx_guest still serves TDREPORTs, see tdx_guest.h).
Result<std::unique_ptr<QuoteProvider>> NewQuoteProvider(TsmFs& fs,
                                                        std::string root = kTsmReportRoot);

}  // namespace cvm::tdx
