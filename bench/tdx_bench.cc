// TDX verification cost: a DCAP quote with its collateral, as a relying party checks it.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/chain_cache.h"
#include "common/clock.h"
#include "common/keys.h"
#include "common/signature.h"
#include "tdx/collateral.h"
#include "tdx/quote.h"
#include "tdx/roots.h"
#include "tdx/tcb.h"
#include "tdx/verify.h"
#include "tests/testing/testing.h"

namespace cvm {
namespace {

TimePoint At() { return *ParseTime("2025-06-20T00:00:00Z"); }

// Quote signature, QE report, PCK chain to the built-in Intel root.
void BM_TdxVerifyQuote(benchmark::State& state) {
  auto quote = tdx::ParseQuote(testing::ReadData("vectors/tdx/v4-dcap/quote.bin"));
  tdx::QuoteVerifyOptions options;
  options.at = At();
  for (auto _ : state) {
    if (!tdx::VerifyQuote(*quote, options).ok()) return state.SkipWithError("did not verify");
  }
}
BENCHMARK(BM_TdxVerifyQuote);

// Collateral signatures, chains and CRLs, then the TCB level evaluation.
void BM_TdxVerifyCollateralAndTcb(benchmark::State& state) {
  auto quote = tdx::ParseQuote(testing::ReadData("vectors/tdx/v4-dcap/quote.bin"));
  Bytes json = testing::ReadData("vectors/tdx/v4-dcap/collateral.json");
  tdx::QuoteVerifyOptions options;
  options.at = At();
  auto verified = tdx::VerifyQuote(*quote, options);
  for (auto _ : state) {
    auto collateral = tdx::ParseCollateral(AsChars(json));
    auto checked = tdx::VerifyCollateral(*collateral, {}, At());
    if (!checked.ok()) return state.SkipWithError("collateral did not verify");
    auto tcb = tdx::EvaluateTcb(*quote, verified->pck_extensions, *checked);
    if (!tcb.ok()) return state.SkipWithError("TCB did not evaluate");
  }
}
BENCHMARK(BM_TdxVerifyCollateralAndTcb);

// The limits of issue #12 (scripts/bench pairs each with the bare OpenSSL cost it is held to).
// Every benchmark below reports items_per_second.

// One bare ECDSA P-256/SHA-256 verification through EVP. REQUIRES: raw_sig is r||s (64).
bool BareP256(const EVP_PKEY* key, ByteSpan data, const Bytes& der_sig) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, const_cast<EVP_PKEY*>(key)) == 1 &&
      EVP_DigestVerify(ctx, der_sig.data(), der_sig.size(), data.data(), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

Bytes DerOf(ByteSpan raw_sig) { return *EcdsaRawToDer(raw_sig.first(32), raw_sig.subspan(32)); }

// tdx_verify_per_s: the quote as a relying party checks it once the collateral (verified once,
// its CRLs kept) and the PCK chain (ChainCache) are cached: parse, PCK chain lookup, QE report
// signature and binding, quote signature, PCK extensions.
void BM_TdxVerifyQuoteCached(benchmark::State& state) {
  Bytes bytes = testing::ReadData("vectors/tdx/v4-dcap/quote.bin");
  auto collateral =
      tdx::ParseCollateral(AsChars(testing::ReadData("vectors/tdx/v4-dcap/collateral.json")));
  auto verified = tdx::VerifyCollateral(*collateral, {}, At());
  if (!verified.ok()) return state.SkipWithError("collateral did not verify");
  ChainCache cache;
  tdx::QuoteVerifyOptions options;
  options.at = At();
  options.crls = verified->crls;
  options.chain_cache = &cache;
  for (auto _ : state) {
    auto quote = tdx::ParseQuote(bytes);
    if (!quote.ok() || !tdx::VerifyQuote(*quote, options).ok()) {
      return state.SkipWithError("did not verify");
    }
  }
  if (cache.hits() + 1 < static_cast<uint64_t>(state.iterations())) {
    return state.SkipWithError("the chain cache was not used");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TdxVerifyQuoteCached);

// openssl_p256_verify_per_s: one bare ECDSA P-256/SHA-256 verification through EVP of the
// quote signature (key and DER signature prepared beforehand).
void BM_OpensslP256Verify(benchmark::State& state) {
  auto quote = tdx::ParseQuote(testing::ReadData("vectors/tdx/v4-dcap/quote.bin"));
  ByteSpan ak(quote->attestation_key);
  auto key = EcPublicKeyFromXY(Curve::kP256, ak.first(32), ak.subspan(32));
  Bytes der = DerOf(quote->signature);
  for (auto _ : state) {
    if (!BareP256(key->get(), quote->signed_data, der)) return state.SkipWithError("failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OpensslP256Verify);

// tdx_full_verify_per_s: nothing cached. Each call parses the quote and the collateral, verifies
// the collateral (three issuer chains, two CRLs, TCB info and QE identity signatures), the quote
// (PCK chain with the CRLs, QE report, quote signature) and evaluates the TCB level.
void BM_TdxFullVerify(benchmark::State& state) {
  Bytes bytes = testing::ReadData("vectors/tdx/v4-dcap/quote.bin");
  Bytes json = testing::ReadData("vectors/tdx/v4-dcap/collateral.json");
  for (auto _ : state) {
    auto quote = tdx::ParseQuote(bytes);
    auto collateral = tdx::ParseCollateral(AsChars(json));
    if (!quote.ok() || !collateral.ok()) return state.SkipWithError("did not parse");
    auto checked = tdx::VerifyCollateral(*collateral, {}, At());
    if (!checked.ok()) return state.SkipWithError("collateral did not verify");
    tdx::QuoteVerifyOptions options;
    options.at = At();
    options.crls = checked->crls;
    auto verified = tdx::VerifyQuote(*quote, options);
    if (!verified.ok()) return state.SkipWithError("quote did not verify");
    auto tcb = tdx::EvaluateTcb(*quote, verified->pck_extensions, *checked);
    if (!tcb.ok()) return state.SkipWithError("TCB did not evaluate");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TdxFullVerify);

// tdx_full_bound_per_s: the nine P-256 verifications such a check needs, each once, keys parsed
// beforehand: quote and QE report signatures, the PCK leaf and the PCK Platform CA certificates,
// the TCB info and QE identity signatures, the TCB Signing certificate, the root CA CRL and the
// PCK CRL.
void BM_TdxFullBound(benchmark::State& state) {
  auto quote = tdx::ParseQuote(testing::ReadData("vectors/tdx/v4-dcap/quote.bin"));
  auto c = tdx::ParseCollateral(AsChars(testing::ReadData("vectors/tdx/v4-dcap/collateral.json")));
  auto pck_chain = ParseCertificates(quote->certification.pck_cert_data);
  auto tcb_chain = ParseCertificates(AsBytes(c->tcb_info_issuer_chain));
  auto root_crl = Crl::Parse(c->root_ca_crl);
  auto pck_crl = Crl::Parse(c->pck_crl);
  if (!pck_chain.ok() || pck_chain->size() < 3 || !tcb_chain.ok() || !root_crl.ok() ||
      !pck_crl.ok()) {
    return state.SkipWithError("vectors did not parse");
  }
  const Certificate& pck = (*pck_chain)[0];
  const Certificate& platform_ca = (*pck_chain)[1];
  const Certificate& tcb_signer = (*tcb_chain)[0];
  auto pck_key = pck.PublicKey();
  auto platform_key = platform_ca.PublicKey();
  auto root_key = tdx::IntelSgxRootCa().PublicKey();
  auto tcb_key = tcb_signer.PublicKey();
  ByteSpan ak(quote->attestation_key);
  auto att_key = EcPublicKeyFromXY(Curve::kP256, ak.first(32), ak.subspan(32));
  Bytes quote_sig = DerOf(quote->signature);
  Bytes qe_sig = DerOf(quote->certification.qe_report_signature);
  Bytes tcb_sig = DerOf(c->tcb_info_signature);
  Bytes qe_id_sig = DerOf(c->qe_identity_signature);
  for (auto _ : state) {
    bool ok = BareP256(att_key->get(), quote->signed_data, quote_sig) &&
              BareP256(pck_key->get(), quote->certification.qe_report.raw, qe_sig) &&
              X509_verify(pck.get(), platform_key->get()) == 1 &&
              X509_verify(platform_ca.get(), root_key->get()) == 1 &&
              BareP256(tcb_key->get(), AsBytes(c->tcb_info), tcb_sig) &&
              X509_verify(tcb_signer.get(), root_key->get()) == 1 &&
              BareP256(tcb_key->get(), AsBytes(c->qe_identity), qe_id_sig) &&
              X509_CRL_verify(root_crl->get(), root_key->get()) == 1 &&
              X509_CRL_verify(pck_crl->get(), platform_key->get()) == 1;
    if (!ok) return state.SkipWithError("a signature did not verify");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TdxFullBound);

// Not a target: the certificate and CRL decoding BM_TdxFullVerify cannot avoid, i.e. the quote's
// PCK chain, the three issuer chains of the collateral and its two CRLs, each decoded once as
// it does every call. With OpenSSL 3.0 each certificate's public key goes through an
// OSSL_DECODER context, so bound / (bound + this) is the ceiling of tdx_full_verify
// (docs/performance.md).
void BM_TdxFullParseFloor(benchmark::State& state) {
  auto quote = tdx::ParseQuote(testing::ReadData("vectors/tdx/v4-dcap/quote.bin"));
  auto c = tdx::ParseCollateral(AsChars(testing::ReadData("vectors/tdx/v4-dcap/collateral.json")));
  if (!quote.ok() || !c.ok()) return state.SkipWithError("vectors did not parse");
  for (auto _ : state) {
    bool ok = ParseCertificates(quote->certification.pck_cert_data).ok() &&
              ParseCertificates(AsBytes(c->pck_crl_issuer_chain)).ok() &&
              ParseCertificates(AsBytes(c->tcb_info_issuer_chain)).ok() &&
              ParseCertificates(AsBytes(c->qe_identity_issuer_chain)).ok() &&
              Crl::Parse(c->root_ca_crl).ok() && Crl::Parse(c->pck_crl).ok();
    if (!ok) return state.SkipWithError("did not parse");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TdxFullParseFloor);

}  // namespace
}  // namespace cvm
