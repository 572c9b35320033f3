// The production implementations of appraisal.h's interfaces, as thin adapters over the
// evidence library: Appraiser = FromTrusteeEvidence + VerifyBundle, ResourceSealer =
// ParseTeePublicJwk + EncryptJwe, TokenSigner = SignJwt / VerifyJwt with our ES256 key.
#pragma once

#include <memory>

#include "common/ossl.h"
#include "common/status.h"
#include "rp/appraisal.h"
#include "rp/config.h"

namespace cvm::rp {

struct EvidenceBackends {
  std::unique_ptr<Appraiser> appraiser;
  std::unique_ptr<ResourceSealer> sealer;
  std::unique_ptr<TokenSigner> signer;
};

// The configuration's TDX collateral file (checked to parse), "" when none is configured.
Result<std::string> LoadTdxCollateral(const Config& config);

// Loads the trust anchors and CRLs the configuration names and builds the three adapters.
Result<EvidenceBackends> MakeEvidenceBackends(const Config& config, ossl::PKey token_key);

}  // namespace cvm::rp
