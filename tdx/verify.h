// Verification of a TDX quote: is it genuine? (Validation against expected values is separate:
// validate.h.) Mirrors go-tdx-guest verify.verifyQuote and Intel's QVL, without collateral.
#pragma once

#include <vector>

#include "common/clock.h"
#include "common/x509.h"
#include "tdx/pck.h"
#include "tdx/quote.h"

namespace cvm {
class ChainCache;  // common/chain_cache.h
}  // namespace cvm

namespace cvm::tdx {

struct QuoteVerifyOptions {
  // Trust anchors for the PCK chain. Empty: the built-in Intel SGX Root CA only. A simulated root
  // is trusted only when a caller names it here.
  std::vector<Certificate> roots;
  // REQUIRED: the time at which certificate validity (and CRL freshness) is evaluated, taken
  // from a Clock (common/clock.h). No default: the epoch makes every certificate not yet valid.
  TimePoint at{};
  // CRLs for the PCK chain (Intel SGX Root CA CRL, PCK Platform/Processor CA CRL). Empty: no
  // revocation check (collateral.h supplies them after verifying them).
  std::vector<Crl> crls;
  // Chains that verified before (common/chain_cache.h), e.g. one per relying-party process.
  // It also keeps the parsed PCK chain by the bytes of the certification data and the decoded
  // attestation key by its coordinates, so a platform's chain and key are decoded once. nullptr:
  // the PCK chain is parsed and verified in full every call. Not owned.
  ChainCache* chain_cache = nullptr;
};

// What verification established about a quote.
struct VerifiedQuote {
  Certificate pck;                     // the PCK leaf certificate
  std::vector<Certificate> pck_chain;  // the certificates that followed it in the quote
  PckExtensions pck_extensions;
};

// Checks, in order: the PCK chain (from certification data type 5) to one of the roots at
// options.at with the CRLs; the QE report signature by the PCK key (ECDSA P-256/SHA-256); that
// the QE report data is SHA-256(attestation key || QE auth data) followed by 32 zero bytes; the
// quote signature over the header and body by the attestation key; the PCK SGX extensions.
// Returns kRejected naming the first check that fails, kInvalidInput for an unusable chain.
Result<VerifiedQuote> VerifyQuote(const Quote& quote, const QuoteVerifyOptions& options);

}  // namespace cvm::tdx
