// Thin adapters from the relying party's seams (appraisal.h) to the evidence library.
#include "rp/evidence_adapters.h"

#include "common/chain_cache.h"
#include "common/file_util.h"
#include "common/http.h"
#include "evidence/bundle.h"
#include "evidence/jose.h"
#include "evidence/trustee.h"
#include "gpu/ocsp.h"
#include "gpu/rim.h"
#include "tdx/collateral.h"

namespace cvm::rp {
namespace {

// What GPUs are verified with (the configuration's `gpu` section, loaded once).
struct GpuSettings {
  std::vector<Bytes> rims;
  std::string rim_dir;
  bool fetch_rims = false;
  bool ocsp = false;
  std::string ocsp_url;
  std::vector<Certificate> device_roots, rim_roots;
};

class BundleAppraiser final : public Appraiser {
 public:
  BundleAppraiser(std::vector<Certificate> snp_roots, std::vector<Certificate> tdx_roots,
                  std::vector<Crl> crls, std::string tdx_collateral, bool fetch, GpuSettings gpu)
      : snp_roots_(std::move(snp_roots)),
        tdx_roots_(std::move(tdx_roots)),
        crls_(std::move(crls)),
        tdx_collateral_(std::move(tdx_collateral)),
        fetch_(fetch),
        gpu_(std::move(gpu)) {}

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
    // GPUs: the configured RIMs, then the RIM directory or NVIDIA's RIM service (one client
    // per appraisal: ServiceRimSource is one-request-at-a-time).
    options.gpu.rims = gpu_.rims;
    options.gpu.device_anchors = gpu_.device_roots;
    options.gpu.rim_anchors = gpu_.rim_roots;
    std::unique_ptr<HttpClient> rim_http;
    std::unique_ptr<gpu::RimSource> rim_source;
    if (gpu_.fetch_rims) {
      rim_http = NewCurlHttpClient();
      rim_source = std::make_unique<gpu::ServiceRimSource>(*rim_http, gpu_.rim_dir);
    } else if (!gpu_.rim_dir.empty()) {
      rim_source = std::make_unique<gpu::DirectoryRimSource>(gpu_.rim_dir);
    }
    options.gpu.rim_source = rim_source.get();
    std::unique_ptr<HttpClient> ocsp_http;
    gpu::OcspOptions ocsp;
    if (gpu_.ocsp) {
      ocsp_http = NewCurlHttpClient();
      ocsp.http = ocsp_http.get();
      ocsp.url = gpu_.ocsp_url;
      ocsp.cache = &ocsp_cache_;
      options.gpu.ocsp = &ocsp;
    }
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
  const GpuSettings gpu_;
  mutable gpu::OcspCache ocsp_cache_;  // thread-safe
  // Each platform's VCEK / PCK chain costs its signatures once per process; a hit is used only
  // inside every certificate's validity period (ChainCache). Thread-safe, hence usable from
  // the const Appraise that many sessions call at once.
  mutable ChainCache chain_cache_;
};

// The parsed TEE key (an EVP_PKEY), so the resource request does not decode the JWK again.
struct TeeSealingKey final : SealingKey {
  explicit TeeSealingKey(evidence::TeePublicKey k) : key(std::move(k)) {}
  const evidence::TeePublicKey key;
};

class JweSealer final : public ResourceSealer {
 public:
  Result<std::shared_ptr<const SealingKey>> CheckKey(const nlohmann::json& jwk) const override {
    CVM_ASSIGN_OR_RETURN(evidence::TeePublicKey key, evidence::ParseTeePublicJwk(jwk));
    return std::shared_ptr<const SealingKey>(std::make_shared<TeeSealingKey>(std::move(key)));
  }
  Result<std::string> Seal(const SealingKey& key, ByteSpan plaintext) const override {
    const auto* tee = dynamic_cast<const TeeSealingKey*>(&key);
    if (tee == nullptr) return Internal("JWE: a key this sealer did not check");
    return evidence::EncryptJwe(tee->key, plaintext);
  }
};

class JwtSigner final : public TokenSigner {
 public:
  explicit JwtSigner(evidence::Es256Signer signer) : signer_(std::move(signer)) {}
  Result<std::string> Sign(const nlohmann::json& claims) const override {
    return signer_.Sign(claims);
  }
  Result<nlohmann::json> Verify(std::string_view token, TimePoint now) const override {
    CVM_ASSIGN_OR_RETURN(evidence::Jwt jwt, evidence::VerifyJwt(token, signer_.key(), now));
    return jwt.claims;
  }

 private:
  const evidence::Es256Signer signer_;
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
  GpuSettings gpu;
  for (const auto& file : config.gpu.rims) {
    CVM_ASSIGN_OR_RETURN(Bytes rim, ReadFile(file, 4 << 20).WithContext("gpu.rims"));
    gpu.rims.push_back(std::move(rim));
  }
  gpu.rim_dir = config.gpu.rim_dir;
  gpu.fetch_rims = config.gpu.fetch_rims;
  gpu.ocsp = config.gpu.ocsp;
  gpu.ocsp_url = config.gpu.ocsp_url;
  CVM_ASSIGN_OR_RETURN(gpu.device_roots, LoadCertificates(config.gpu.device_roots));
  CVM_ASSIGN_OR_RETURN(gpu.rim_roots, LoadCertificates(config.gpu.rim_roots));
  EvidenceBackends out;
  out.appraiser = std::make_unique<BundleAppraiser>(std::move(snp_roots), std::move(tdx_roots),
                                                    std::move(crls), std::move(tdx_collateral),
                                                    config.fetch_collateral, std::move(gpu));
  out.sealer = std::make_unique<JweSealer>();
  CVM_ASSIGN_OR_RETURN(evidence::Es256Signer signer,
                       evidence::Es256Signer::Create(std::move(token_key)));
  out.signer = std::make_unique<JwtSigner>(std::move(signer));
  return out;
}

}  // namespace cvm::rp
