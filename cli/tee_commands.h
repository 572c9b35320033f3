// The per-TEE halves of the cvmctl verbs that span several kinds of evidence. `report show` and
// `verify` detect the kind of evidence from its bytes and call the matching function below.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "common/bytes.h"
#include "common/clock.h"

namespace cvm::cli {

enum class EvidenceKind { kUnknown, kSnpReport, kTdxQuote, kTdReport, kAzureHcl };

// Guesses the kind of evidence from its leading bytes (no validation).
EvidenceKind DetectEvidence(ByteSpan data);

struct ShowOptions {
  bool json = false;
};

struct VerifyOptions {
  std::vector<std::string> certs;  // --cert: leaf and intermediate certificates (PEM or DER)
  std::vector<std::string> roots;  // --root: trust anchors replacing the built-in roots
  std::vector<std::string> crls;   // --crl: CRLs to check the chain against (SNP: AMD's ARK CRL)
  std::string product;             // --product: SNP product when the report does not say (v2)
  std::optional<TimePoint> at;     // --at: evaluation time (default: now)
  std::string policy;              // --policy: expected values (YAML)
  std::string collateral;          // --collateral: TDX PCCS JSON collateral
  std::string tpm_quote;           // --tpm-quote: Azure TPM quote JSON
  std::string nonce;               // --nonce: hex nonce the TPM quote must carry (with --tpm-quote)
  bool fetch = false;              // --fetch: allow certificate services over the network
  bool json = false;               // --json
};

// `cvmctl verify` for an evidence bundle, Trustee tee-evidence JSON (--tee KIND where the
// content does not say) or an Azure TDX HCL report with --td-quote: verified through
// evidence::VerifyBundle. nullopt when `args` name other evidence (the caller goes on).
std::optional<int> VerifyBundleHook(Args args);

int ShowSnpReport(ByteSpan data, const ShowOptions& options);
int VerifySnpReport(ByteSpan data, const VerifyOptions& options);
int ShowTdxQuote(ByteSpan data, const ShowOptions& options);
int VerifyTdxQuote(ByteSpan data, const VerifyOptions& options);
int ShowTdReport(ByteSpan data, const ShowOptions& options);
int ShowAzureHcl(ByteSpan data, const ShowOptions& options);
int VerifyAzureHcl(ByteSpan data, const VerifyOptions& options);

// `cvmctl sim <verb> ...` for each simulated TEE: "init" for both; "report" for SNP; "quote" and
// "collateral" for TDX. `args` are the arguments after the verb.
int RunSimSnp(std::string_view verb, Args args);
int RunSimTdx(std::string_view verb, Args args);

}  // namespace cvm::cli
