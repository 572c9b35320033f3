// Fuzzes the PCCS JSON collateral parser, the TCB info / QE identity parsers, and the raw member
// locator used to keep signed JSON bytes, and the PCS response form.
#include <cstdint>
#include <string_view>

#include "tdx/collateral.h"
#include "tdx/json_raw.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto c = cvm::tdx::ParseCollateral(text); c.ok()) {
    (void)cvm::tdx::ParseTcbInfo(c->tcb_info);
    (void)cvm::tdx::ParseQeIdentity(c->qe_identity);
  }
  (void)cvm::tdx::ParseTcbInfo(text);
  (void)cvm::tdx::ParseQeIdentity(text);
  (void)cvm::tdx::RawMemberText(text, "tcbInfo");
  (void)cvm::tdx::ParseSignedResponse(text, "enclaveIdentity");
  return 0;
}
