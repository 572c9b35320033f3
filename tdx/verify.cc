#include "tdx/verify.h"

#include <memory>
#include <string>
#include <string_view>

#include "common/chain_cache.h"
#include "common/digest.h"
#include "common/keys.h"
#include "common/signature.h"
#include "tdx/roots.h"

namespace cvm::tdx {
namespace {

// The parser guarantees 64-byte signatures, but a Quote is a plain struct that callers can build
// or alter, so the size is checked before the signature is sliced into r and s.
Status CheckSignatureSize(ByteSpan sig, std::string_view what) {
  if (sig.size() != kEcdsaP256SigSize) {
    return InvalidInput("tdx quote: " + std::string(what) + " is " + std::to_string(sig.size()) +
                        " bytes; an ECDSA P-256 signature is 64 (r||s)");
  }
  return Status::Ok();
}

// REQUIRES: sig.size() == 64 (CheckSignatureSize).
Status VerifyRawP256(const EVP_PKEY* key, ByteSpan data, ByteSpan sig) {
  return VerifyEcdsaRaw(key, DigestAlg::kSha256, data, sig.first(32), sig.subspan(32, 32));
}

// PckExtensionsOf, remembered in `cache` by the certificate's DER (decoding the SGX extension's
// two dozen nested entries costs more than looking the result up).
Result<PckExtensions> PckExtensionsCached(ChainCache* cache, const Certificate& pck) {
  if (cache == nullptr) return PckExtensionsOf(pck);
  ChainCache::Key key = ChainCache::MemoKey("tdx pck extensions", pck.Der());
  if (auto found = cache->FindMemo(key)) return *static_cast<const PckExtensions*>(found.get());
  CVM_ASSIGN_OR_RETURN(PckExtensions ext, PckExtensionsOf(pck));
  cache->StoreMemo(key, std::make_shared<const PckExtensions>(ext));
  return ext;
}

}  // namespace

Result<VerifiedQuote> VerifyQuote(const Quote& quote, const QuoteVerifyOptions& options) {
  const QeCertificationData& cd = quote.certification;
  auto certs = ParseCertificatesCached(options.chain_cache, cd.pck_cert_data);
  if (!certs.ok()) return certs.status().WithContext("tdx quote: pck certificate chain");
  if (certs->size() < 2) {
    return InvalidInput("tdx quote: pck certificate chain has " + std::to_string(certs->size()) +
                        " certificate(s); expected the PCK leaf and its CA (and the root)");
  }
  VerifiedQuote v{(*certs)[0], {certs->begin() + 1, certs->end()}, {}};

  std::vector<Certificate> anchors = options.roots;
  if (anchors.empty()) anchors.push_back(IntelSgxRootCa());
  ChainOptions chain;
  chain.at = options.at;
  chain.crls = options.crls;
  Status s = VerifyChainCached(options.chain_cache, v.pck, v.pck_chain, anchors, chain);
  if (!s.ok()) return s.WithContext("tdx quote: pck certificate chain");

  auto pck_key = v.pck.PublicKey();
  if (!pck_key.ok()) return pck_key.status().WithContext("tdx quote: pck certificate key");
  auto curve = EcKeyCurve(pck_key->get());
  if (!curve.ok() || *curve != Curve::kP256) {
    return Rejected("tdx quote: pck certificate key is not ECDSA P-256");
  }
  CVM_RETURN_IF_ERROR(CheckSignatureSize(cd.qe_report_signature, "qe report signature"));
  s = VerifyRawP256(pck_key->get(), cd.qe_report.raw, cd.qe_report_signature);
  if (!s.ok()) {
    return Rejected("tdx quote: qe report signature does not verify with the pck key (" +
                    s.message() + ")");
  }

  if (quote.attestation_key.size() != kEcdsaP256KeySize) {
    return InvalidInput("tdx quote: attestation key is " +
                        std::to_string(quote.attestation_key.size()) +
                        " bytes; an ECDSA P-256 public key is 64 (X||Y)");
  }

  Hasher h(DigestAlg::kSha256);
  h.Update(quote.attestation_key).Update(cd.qe_auth_data);
  Bytes expected = h.Finish();
  expected.resize(64, 0);
  if (expected != cd.qe_report.report_data) {
    return Rejected(
        "tdx quote: qe report data is not SHA-256(attestation key || qe auth data) "
        "|| zeros: the attestation key or qe auth data is not the one the QE bound");
  }

  auto att_key = EcPublicKeyCached(options.chain_cache, Curve::kP256,
                                   ByteSpan(quote.attestation_key).first(32),
                                   ByteSpan(quote.attestation_key).subspan(32));
  if (!att_key.ok()) {
    return Rejected("tdx quote: attestation key is not a P-256 point (" +
                    att_key.status().message() + ")");
  }
  CVM_RETURN_IF_ERROR(CheckSignatureSize(quote.signature, "quote signature"));
  s = VerifyRawP256(att_key->get(), quote.signed_data, quote.signature);
  if (!s.ok()) {
    return Rejected(
        "tdx quote: quote signature over header and body does not verify with the "
        "attestation key (" +
        s.message() + ")");
  }

  auto ext = PckExtensionsCached(options.chain_cache, v.pck);
  if (!ext.ok()) return ext.status().WithContext("tdx quote: pck certificate");
  v.pck_extensions = std::move(*ext);
  return v;
}

}  // namespace cvm::tdx
