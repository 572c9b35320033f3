// Is an SNP report genuine? Verifies the endorsement key's chain to an AMD root, the report's
// signature, and that the endorsement key belongs to this chip and TCB. Says nothing about
// whether the report is the one you expected: that is validate.h.
//
// Callable on raw report bytes (e.g. the report inside an Azure HCL blob) with no CLI or I/O:
// certificates, roots and the time are all inputs.
#pragma once

#include <vector>

#include "common/clock.h"
#include "common/x509.h"
#include "snp/report.h"
#include "snp/vcek.h"

namespace cvm {
class ChainCache;  // common/chain_cache.h
}  // namespace cvm

namespace cvm::snp {

struct VerifyOptions {
  // The VCEK or VLEK, and any intermediates (ASK, ASVK, even the ARK: they are only candidates).
  // Untrusted. Order does not matter. Empty: kInvalidInput (nothing to verify with).
  std::vector<Certificate> certs;
  // Trust anchors. Empty: the built-in AMD ARK of the report's product (roots.h). A caller that
  // names roots (e.g. a simulated ARK) replaces the built-in ones entirely.
  std::vector<Certificate> roots;
  // REQUIRED: the time at which certificate validity (and CRL freshness) is evaluated, taken
  // from a Clock (common/clock.h). No default: the epoch makes every certificate not yet valid.
  TimePoint at{};
  // CRLs (AMD KDS /crl) to check the chain against. Empty: no revocation check.
  std::vector<Crl> crls;
  // The product when the report does not say (version 2 reports). kUnknown: taken from the
  // certificate. When the report and the certificate both say, they must agree.
  Product product = Product::kUnknown;
  // Chains that verified before (common/chain_cache.h): a relying party passes one for the
  // life of the process so each platform's VCEK chain costs its RSA signatures once. nullptr:
  // the chain is verified in full every call. Not owned.
  ChainCache* chain_cache = nullptr;
};

struct VerifiedReport {
  Report report;
  Product product = Product::kUnknown;
  SigningKey signing_key = SigningKey::kVcek;
  Certificate endorsement_key;  // the VCEK or VLEK that signed the report
  EndorsementInfo endorsement;
};

// Verifies `report_bytes`. Steps, in order: parse (kInvalidInput / kUnsupported on malformed
// bytes); pick the VCEK (certificate with a hwID extension) or VLEK (cspId extension) that the
// report's SIGNING_KEY names (kInvalidInput when absent; kRejected for SIGNING_KEY "none");
// establish the product and refuse a certificate for another product (kRejected); verify
// leaf -> ASK/ASVK -> ARK at `options.at` (built-in intermediates of the product are added as
// candidates); verify the ECDSA P-384 SHA-384 signature over bytes [0, 0x2A0); require the
// certificate's SPL extensions to equal REPORTED_TCB and (VCEK, unless MASK_CHIP_ID) its hwID to
// equal CHIP_ID (the first 8 bytes on Turin). Every failure after parsing is kRejected with a
// message naming the cause.
Result<VerifiedReport> VerifyReport(ByteSpan report_bytes, const VerifyOptions& options);

}  // namespace cvm::snp
