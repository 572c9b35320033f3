// Thin adapters from the relying party's seams (appraisal.h) to the evidence library.
#include "rp/evidence_adapters.h"

#include "common/chain_cache.h"
#include "common/file_util.h"
#include "common/http.h"
#include "evidence/bundle.h"
#include "evidence/jose.h"
#include "evidence/trustee.h"
#include "tdx/collateral.h"

namespace cvm::rp {
namespace {

class BundleAppraiser final : public Appraiser {
 public:
  BundleAppraiser(std::vector<Certificate> snp_roots, std::vector<Certificate> tdx_roots,
                  std::vector<Crl> crls, std::string tdx_collateral, bool fetch)
      : snp_roots_(std::move(snp_roots)),
        tdx_roots_(std::move(tdx_roots)),
        crls_(std::move(crls)),
        tdx_collateral_(std::move(tdx_collateral)),
        fetch_(fetch) {}

  Result<Appraisal> Appraise(const AppraisalInput& in) const override {
    Appraisal out;
    auto bundle = evidence::FromTrusteeEvidence(in.tee, in.primary_evidence, in.additional_evidence,
                                                in.hash, in.nonce, in.tee_pubkey, &chain_cache_);
    if (!bundle.ok()) {
      // Malformed evidence is a refusal with a reason, not a failure of the appraiser.
      out.reasons.push_back(bundle.status().ToString());
      return out;
    }
    bundle->init_data = in.init_data;
    evidence::BundleVerifyOptions options;
    options.at = in.at;
    options.snp_roots = snp_roots_;
    options.tdx_roots = tdx_roots_;
    options.crls = crls_;
    options.collateral = tdx_collateral_;
    options.expected_nonce = in.nonce;
    options.expected_tee_pubkey = in.tee_pubkey;
    options.chain_cache = &chain_cache_;
    // HttpClient is one-request-at-a-time: one per appraisal.
    std::unique_ptr<HttpClient> http = fetch_ ? NewCurlHttpClient() : nullptr;
    options.http = http.get();
    auto verdict = evidence::VerifyBundle(*bundle, options);
    if (!verdict.ok()) return verdict.status();
    out.verified = verdict->verified;
    out.reasons = verdict->reasons;
    out.notes = verdict->notes;
    out.claims = verdict->claims;
    out.claims_json = verdict->claims.ToJson();
    return out;
  }

 private:
  const std::vector<Certificate> snp_roots_, tdx_roots_;
  const std::vector<Crl> crls_;
  const std::string tdx_collateral_;
  const bool fetch_;
  // Each platform's VCEK / PCK chain costs its signatures once per process; a hit is used only
  // inside every certificate's validity period (ChainCache). Thread-safe, hence usable from
  // the const Appraise that many sessions call at once.
  mutable ChainCache chain_cache_;
};

class JweSealer final : public ResourceSealer {
 public:
  Status CheckKey(const nlohmann::json& jwk) const override {
    return evidence::ParseTeePublicJwk(jwk).status();
  }
  Result<std::string> Seal(const nlohmann::json& jwk, ByteSpan plaintext) const override {
    CVM_ASSIGN_OR_RETURN(auto key, evidence::ParseTeePublicJwk(jwk));
    return evidence::EncryptJwe(key, plaintext);
  }
};

class JwtSigner final : public TokenSigner {
 public:
  explicit JwtSigner(ossl::PKey key) : key_(std::move(key)) {}
  Result<std::string> Sign(const nlohmann::json& claims) const override {
    return evidence::SignJwt(key_.get(), claims);
  }
  Result<nlohmann::json> Verify(std::string_view token, TimePoint now) const override {
    CVM_ASSIGN_OR_RETURN(evidence::Jwt jwt, evidence::VerifyJwt(token, key_.get(), now));
    return jwt.claims;
  }

 private:
  const ossl::PKey key_;
};

}  // namespace

Result<std::string> LoadTdxCollateral(const Config& config) {
  if (config.tdx_collateral.empty()) return std::string();
  CVM_ASSIGN_OR_RETURN(
      std::string text,
      ReadTextFile(config.tdx_collateral, 4 << 20).WithContext("trust_anchors.tdx_collateral"));
  CVM_RETURN_IF_ERROR(tdx::ParseCollateral(text).status().WithContext(config.tdx_collateral));
  return text;
}

Result<EvidenceBackends> MakeEvidenceBackends(const Config& config, ossl::PKey token_key) {
  CVM_ASSIGN_OR_RETURN(auto snp_roots, LoadCertificates(config.snp_roots));
  CVM_ASSIGN_OR_RETURN(auto tdx_roots, LoadCertificates(config.tdx_roots));
  CVM_ASSIGN_OR_RETURN(auto crls, LoadCrls(config.crls));
  CVM_ASSIGN_OR_RETURN(std::string tdx_collateral, LoadTdxCollateral(config));
  EvidenceBackends out;
  out.appraiser =
      std::make_unique<BundleAppraiser>(std::move(snp_roots), std::move(tdx_roots), std::move(crls),
                                        std::move(tdx_collateral), config.fetch_collateral);
  out.sealer = std::make_unique<JweSealer>();
  out.signer = std::make_unique<JwtSigner>(std::move(token_key));
  return out;
}

}  // namespace cvm::rp
