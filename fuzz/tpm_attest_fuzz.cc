// Fuzzes the TPM quote parsers (TPMS_ATTEST, TPMT_SIGNATURE) and quote verification: no crash,
// and what parses stays inside the structure's limits.
#include <cstdint>
#include <cstdlib>

#include "common/keys.h"
#include "tpm/attest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cvm::ByteSpan in(data, size);
  if (auto a = cvm::tpm::ParseAttest(in); a.ok()) {
    if (a->magic != cvm::tpm::kTpmGeneratedValue || a->extra_data.size() > 66) std::abort();
    for (const auto& bank : a->pcr_selection.banks) {
      for (uint32_t i : bank.pcrs) {
        if (i > cvm::tpm::kMaxPcr) std::abort();
      }
    }
  }
  (void)cvm::tpm::ParseTpmSignature(in);
  // Verification of arbitrary bytes under a fixed key must fail cleanly, never succeed.
  static cvm::ossl::PKey key = std::move(cvm::GenerateEcKey(cvm::Curve::kP256).value());
  cvm::tpm::TpmSignature sig;
  sig.r.assign(32, 1);
  sig.s.assign(32, 1);
  if (cvm::tpm::VerifyQuote(key.get(), in, sig, {}, {}).ok()) std::abort();
  return 0;
}
