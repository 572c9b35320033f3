// cvmctl verify for evidence bundles, Trustee tee-evidence JSON, and Azure TDX HCL reports with
// their TD quote: all go through evidence::VerifyBundle, the entry every verifier uses.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/output.h"
#include "cli/tee_commands.h"
#include "common/args.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "common/http.h"
#include "common/x509.h"
#include "evidence/bundle.h"
#include "evidence/trustee.h"

namespace cvm::cli {
namespace {

using nlohmann::json;

struct BundleCliOptions {
  std::vector<std::string> certs, roots, crls;
  std::string product, at, policy, collateral, tpm_quote, nonce, tee, td_quote;
  bool fetch = false, json = false, signature_only = false, allow_debug = false;
};

bool LooksLikeJson(ByteSpan data) {
  for (uint8_t c : data) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    return c == '{';
  }
  return false;
}

int Print(const evidence::BundleVerdict& v, bool as_json) {
  if (as_json) {
    nlohmann::ordered_json j = v.ToJson();
    // The shape of the other verify verbs: verified, tee, reasons, report.
    j["report"] = nlohmann::ordered_json::parse(v.claims.ToJson().dump());
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    for (const auto& n : v.notes) std::printf("note: %s\n", n.c_str());
    for (const auto& r : v.reasons) std::printf("rejected: %s\n", r.c_str());
    std::printf("%s (%s)\n", v.verified ? "verified" : "rejected",
                std::string(evidence::TeeKindName(v.tee)).c_str());
  }
  return v.verified ? kExitOk : kExitRejected;
}

// The Azure TDX case: HCL report + TD quote (+ optional TPM quote JSON) as a bundle.
Result<evidence::Bundle> AzureTdxBundle(ByteSpan hcl, const BundleCliOptions& o) {
  CVM_ASSIGN_OR_RETURN(Bytes quote, ReadInput(o.td_quote));
  if (o.tpm_quote.empty()) {
    evidence::Bundle b;
    b.tee = evidence::TeeKind::kAzTdxVtpm;
    b.report.assign(hcl.begin(), hcl.end());
    b.td_quote = std::move(quote);
    return b;
  }
  CVM_ASSIGN_OR_RETURN(Bytes q, ReadInput(o.tpm_quote));
  json tq = json::parse(q.begin(), q.end(), nullptr, false);
  if (tq.is_discarded()) return InvalidInput(o.tpm_quote + ": not JSON");
  auto url = [](ByteSpan b) {
    std::string s = Base64UrlEncode(b);
    while (s.size() % 4) s.push_back('=');
    return s;
  };
  json primary = {
      {"version", 1}, {"tpm_quote", tq}, {"hcl_report", url(hcl)}, {"td_quote", url(quote)}};
  return evidence::FromTrusteeEvidenceFile(evidence::TeeKind::kAzTdxVtpm, primary.dump());
}

}  // namespace

std::optional<int> VerifyBundleHook(Args args) {
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") return std::nullopt;  // the verify verb's own help
  }
  // Help is the verify verb's own: it documents every option, these included.
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") return std::nullopt;
  }
  BundleCliOptions o;
  std::vector<std::string> files;
  bool no_collateral = false;  // the verify verb's TDX option; for bundles, --signature-only
  ArgParser parser("cvmctl verify", "FILE [options]", "");
  parser.Repeated("cert", "FILE", "", &o.certs);
  parser.Repeated("root", "FILE", "", &o.roots);
  parser.Repeated("crl", "FILE", "", &o.crls);
  parser.Option("product", 0, "NAME", "", &o.product);
  parser.Option("at", 0, "TIME", "", &o.at);
  parser.Option("policy", 0, "FILE", "", &o.policy);
  parser.Option("collateral", 0, "FILE", "", &o.collateral);
  parser.Option("tpm-quote", 0, "FILE", "", &o.tpm_quote);
  parser.Option("nonce", 0, "HEX", "", &o.nonce);
  parser.Option("tee", 0, "KIND", "", &o.tee);
  parser.Option("td-quote", 0, "FILE", "", &o.td_quote);
  parser.Flag("fetch", 0, "", &o.fetch);
  parser.Flag("json", 0, "", &o.json);
  parser.Flag("signature-only", 0, "", &o.signature_only);
  parser.Flag("allow-debug", 0, "", &o.allow_debug);
  parser.Flag("no-collateral", 0, "", &no_collateral);
  parser.Positionals("FILE", 1, 1, &files);
  if (auto code = parser.Parse(args)) return *code;
  auto data = ReadInput(files[0]);
  if (!data.ok()) return std::nullopt;  // the verify verb reports it
  const bool is_bundle = evidence::LooksLikeBundle(AsChars(*data));
  const bool is_json = LooksLikeJson(*data);
  const bool hcl_with_quote = !o.td_quote.empty();
  if (!is_bundle && !is_json && !hcl_with_quote) {
    // Raw evidence: the verify verb's own path, which does not know the options added here
    // (it has its own --allow-debug).
    if (!o.tee.empty() || o.signature_only) {
      return Fail(InvalidInput("--tee and --signature-only apply to bundles and Trustee evidence"));
    }
    return std::nullopt;
  }
  o.signature_only = o.signature_only || no_collateral;
  // Options of the raw-evidence path that a bundle does not take: refused, not ignored.
  if (!o.policy.empty()) {
    return Fail(
        InvalidInput("--policy does not apply to bundles and Trustee evidence (expected "
                     "values are the relying party's policy)"));
  }
  if (!o.product.empty()) return Fail(InvalidInput("--product does not apply here"));
  if (!o.tpm_quote.empty() && !hcl_with_quote) {
    return Fail(InvalidInput("--tpm-quote applies only with --td-quote"));
  }

  Result<evidence::Bundle> bundle = InvalidInput("unreachable");
  if (hcl_with_quote) {
    if (is_bundle || is_json) return Fail(InvalidInput("--td-quote goes with an HCL report"));
    bundle = AzureTdxBundle(*data, o);
  } else if (is_bundle) {
    if (!o.tee.empty()) return Fail(InvalidInput("--tee: a bundle says its own TEE kind"));
    bundle = evidence::ParseBundle(AsChars(*data));
  } else {
    Result<evidence::TeeKind> kind =
        o.tee.empty() ? evidence::GuessTrusteeKind(AsChars(*data)) : evidence::ParseTeeKind(o.tee);
    if (!kind.ok()) return Fail(kind.status().WithContext(o.tee.empty() ? files[0] : "--tee"));
    bundle = evidence::FromTrusteeEvidenceFile(*kind, AsChars(*data));
  }
  if (!bundle.ok()) return Fail(bundle.status().WithContext(files[0]));

  evidence::BundleVerifyOptions vo;
  vo.at = std::chrono::system_clock::now();
  if (!o.at.empty()) {
    auto t = ParseTime(o.at);
    if (!t.ok()) return Fail(t.status().WithContext("--at"));
    vo.at = *t;
  }
  auto certs = ReadCertificates(o.certs);
  if (!certs.ok()) return Fail(certs.status());
  for (const auto& c : *certs) bundle->certs.push_back(c.Der());
  auto roots = ReadCertificates(o.roots);
  if (!roots.ok()) return Fail(roots.status());
  const bool snp =
      bundle->tee == evidence::TeeKind::kSnp || bundle->tee == evidence::TeeKind::kAzSnpVtpm;
  (snp ? vo.snp_roots : vo.tdx_roots) = *roots;
  for (const auto& path : o.crls) {
    auto der = ReadInput(path);
    if (!der.ok()) return Fail(der.status());
    auto crl = Crl::Parse(*der);
    if (!crl.ok()) return Fail(crl.status().WithContext(path));
    vo.crls.push_back(std::move(*crl));
  }
  if (!o.collateral.empty()) {
    if (snp) return Fail(InvalidInput("--collateral applies to TDX evidence"));
    auto c = ReadInput(o.collateral);
    if (!c.ok()) return Fail(c.status());
    vo.collateral.assign(c->begin(), c->end());
  }
  if (!o.nonce.empty() && bundle->runtime_data) {
    // The nonce the verifier issued, as the runtime data carries it (the binding rule then
    // ties it to REPORT_DATA).
    vo.expected_nonce = o.nonce;
  } else if (!o.nonce.empty()) {
    auto n = HexDecode(o.nonce);
    if (!n.ok()) return Fail(n.status().WithContext("--nonce"));
    vo.expected_report_data = std::move(*n);
  }
  if (o.signature_only && snp) return Fail(InvalidInput("--signature-only applies to TDX"));
  vo.tdx_signature_only = o.signature_only;
  vo.allow_debug = o.allow_debug;
  std::unique_ptr<HttpClient> http;
  if (o.fetch) {
    http = NewCurlHttpClient();
    vo.http = http.get();
  }
  auto verdict = evidence::VerifyBundle(*bundle, vo);
  if (!verdict.ok()) return Fail(verdict.status());
  return Print(*verdict, o.json);
}

}  // namespace cvm::cli
