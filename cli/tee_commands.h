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
#include "common/status.h"
#include "common/x509.h"
#include "snp/appraise.h"

namespace cvm::cli {

enum class EvidenceKind { kUnknown, kSnpReport, kTdxQuote, kTdReport, kAzureHcl };

// Guesses the kind of evidence from its leading bytes (no validation).
EvidenceKind DetectEvidence(ByteSpan data);

struct ShowOptions {
  bool json = false;
};

// The options of `cvmctl verify`. Which apply to which kind of evidence is decided by
// CheckVerifyOptions; an option that does not apply is refused (exit 2), never ignored.
struct VerifyOptions {
  std::vector<std::string> certs;  // --cert: leaf and intermediate certificates (SNP, Azure)
  std::vector<std::string> roots;  // --root: trust anchors replacing the built-in roots
  std::vector<std::string> crls;   // --crl: CRLs applied to the chain (every kind)
  std::string product;             // --product: the SNP product expected (SNP, Azure)
  const Clock* clock = &SystemClock::Get();  // --at: a FixedClock; default the wall clock
  std::string policy;                        // --policy: expected values (YAML)
  std::string collateral;                    // --collateral: TDX PCCS JSON collateral (TDX)
  bool no_collateral = false;  // --no-collateral: accept a signature-only TDX check (TDX)
  std::string tpm_quote;       // --tpm-quote: Azure TPM quote JSON (Azure)
  std::string nonce;           // --nonce: hex nonce the TPM quote must carry (Azure)
  bool allow_debug = false;    // --allow-debug: accept DEBUG guests/TDs (forensics)
  bool fetch = false;          // --fetch: AMD KDS (SNP, Azure) / Intel PCS (TDX)
  bool json = false;           // --json
};

// OK, or kInvalidInput naming the first given option that does not apply to `kind`.
Status CheckVerifyOptions(EvidenceKind kind, const VerifyOptions& options);

// Certificates from files: PEM (one or more), DER, or a host certificate table (configfs-tsm
// auxblob / extended-report table) whose certificate entries are DER and whose CRL entry, if any,
// goes to `crls` (nullptr: CRL entries are skipped).
Result<std::vector<Certificate>> LoadCerts(const std::vector<std::string>& files,
                                           std::vector<Crl>* crls = nullptr);
// The SNP appraisal options from the command line (certificates, CRLs, roots, product, policy,
// --allow-debug); the KDS client is the caller's.
Status SnpOptionsFrom(const VerifyOptions& options, snp::AppraiseOptions& out);
// Without --cert, for an error getting the certificates (snp::kCertsContext), the context that
// says where the VCEK was looked for; any other status unchanged.
Status CertHint(const Status& status, const VerifyOptions& options);
// A TPM nonce from hex (--nonce): at most 64 bytes; kInvalidInput naming the option.
Result<Bytes> ParseNonce(const std::string& hex);
// The KDS cache: $CVM_KDS_CACHE, else $XDG_CACHE_HOME/cvm-agent/kds, else ~/.cache/cvm-agent/kds.
std::string KdsCacheDir();
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

// OK when `dir` does not exist, is empty, or `force`; kInvalidInput otherwise (sim init never
// overwrites a state directory silently).
Status RefuseExistingDir(const std::string& dir, bool force);

// `cvmctl sim <verb> ...` for each simulated TEE: "init" for both; "report" for SNP; "quote" and
// "collateral" for TDX. `args` are the arguments after the verb.
int RunSimSnp(std::string_view verb, Args args);
int RunSimTdx(std::string_view verb, Args args);

}  // namespace cvm::cli
