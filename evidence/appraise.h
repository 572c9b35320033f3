// Private to evidence/: the appraisal of each piece of hardware evidence, one file per TEE
// (appraise_snp.cc, appraise_tdx.cc, appraise_tpm.cc, appraise_azure.cc). They call the snp,
// tdx and tpm libraries' verification and validation entries; when those libraries gain one
// unified fail-closed entry per TEE, only these files change.
//
// Every function appends one sentence per problem to `a.reasons` (never stops at the first
// problem it can still look past) and per unchecked item to `a.notes`, and fills the claims
// it establishes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/ossl.h"
#include "evidence/bundle.h"
#include "snp/report.h"
#include "tdx/quote.h"

namespace cvm::evidence::internal {

struct Appraisal {
  std::vector<std::string> reasons;
  std::vector<std::string> notes;
  Claims claims;
};

// SNP: the report's chain and signature (VCEK/VLEK from `certs`, else fetched through
// options.http from AMD KDS), then the safety defaults (debug and migration agent refused unless
// allowed). Fills the SNP claims. Returns the report when it verified.
std::optional<snp::Report> AppraiseSnp(ByteSpan report, const std::vector<Bytes>& certs,
                                       const BundleVerifyOptions& options, Appraisal& a);

// TDX: the quote's PCK chain and signatures, the collateral (bundle's, options', or fetched;
// required unless options.tdx_signature_only) and TCB evaluation, then the safety defaults
// (debug refused unless allowed, TCB status accepted). Fills the TDX claims. Returns the quote
// when it verified.
std::optional<tdx::Quote> AppraiseTdx(ByteSpan quote, const std::string& bundle_collateral,
                                      const BundleVerifyOptions& options, Appraisal& a);
// The CCEL log replayed against the quote's RTMRs.
void AppraiseCcel(ByteSpan ccel, const tdx::TdQuoteBody& body, Appraisal& a);

// TPM: the quote's signature by `ak` (from tpm.ak_public when null), its structure, the PCR
// digest over the quoted PCRs, qualifiedSigner == the AK's name (from tpm.ak_public_area), the
// nonce (`expected_nonce`; nullopt: noted as unchecked), and the event log replayed against the
// quoted PCRs (every PCR it extends must be quoted). Fills claims.pcrs with the quoted PCRs only.
void AppraiseTpm(const TpmEvidence& tpm, const EVP_PKEY* ak,
                 const std::optional<Bytes>& expected_nonce, Appraisal& a);

// Azure vTPM kinds: the HCL report (type matching the kind), its hardware report (SNP: as
// AppraiseSnp; TDX: the TD quote verified as AppraiseTdx and binding the HCL's TDREPORT field
// by field), the HCL binding of the runtime claims, and the TPM quote against HCLAkPub with
// `expected_nonce` as qualifying data (version 2: also the HCL user-data's prefix).
void AppraiseAzure(const Bundle& bundle, const BundleVerifyOptions& options,
                   const std::optional<Bytes>& expected_nonce, Appraisal& a);

}  // namespace cvm::evidence::internal
