// SNP hardware evidence through the snp library's verification and validation entries.
#include "common/x509.h"
#include "evidence/appraise.h"
#include "snp/kds.h"
#include "snp/roots.h"
#include "snp/validate.h"
#include "snp/verify.h"

namespace cvm::evidence::internal {
namespace {

bool IsBuiltinArk(const Certificate& root) {
  for (const auto& ark : snp::BuiltinArks()) {
    if (ark.Fingerprint(DigestAlg::kSha256) == root.Fingerprint(DigestAlg::kSha256)) return true;
  }
  return false;
}

}  // namespace

std::optional<snp::Report> AppraiseSnp(ByteSpan report_bytes, const std::vector<Bytes>& certs,
                                       const BundleVerifyOptions& options, Appraisal& a) {
  auto parsed = snp::ParseReport(report_bytes);
  if (!parsed.ok()) {
    a.reasons.push_back("snp report: " + parsed.status().ToString());
    return std::nullopt;
  }
  snp::VerifyOptions vo;
  vo.at = options.at;
  vo.roots = options.snp_roots;
  vo.crls = options.crls;
  for (size_t i = 0; i < certs.size(); ++i) {
    auto c = Certificate::FromDer(certs[i]);
    if (!c.ok()) {
      a.reasons.push_back("certs[" + std::to_string(i) + "]: " + c.status().ToString());
      return std::nullopt;
    }
    vo.certs.push_back(std::move(*c));
  }
  if (vo.certs.empty()) {
    if (options.http == nullptr) {
      a.reasons.push_back(
          "snp: the bundle carries no VCEK/VLEK and no HTTP client was given to fetch one");
      return std::nullopt;
    }
    snp::KdsClient kds(options.http, "");
    snp::Product product = snp::ProductFromCpuid(*parsed);
    if (product == snp::Product::kUnknown) {
      a.reasons.push_back(
          "snp: the report does not name its product, so its VCEK cannot be "
          "fetched; the bundle must carry it");
      return std::nullopt;
    }
    auto fetched = snp::FetchVcek(kds, *parsed, product);
    if (!fetched.ok()) {
      a.reasons.push_back("snp: fetching the VCEK from AMD KDS: " + fetched.status().ToString());
      return std::nullopt;
    }
    vo.certs.push_back(fetched->vcek);
    for (auto& c : fetched->chain) vo.certs.push_back(c);
    a.notes.push_back("snp: VCEK fetched from AMD KDS");
  }
  auto verified = snp::VerifyReport(report_bytes, vo);
  if (!verified.ok()) {
    a.reasons.push_back("snp: " + verified.status().message());
    return std::nullopt;
  }
  const snp::Report& r = verified->report;
  snp::ValidationOptions val;  // every expected value unchecked; safety bits at their defaults
  val.allow_debug = options.allow_debug;
  for (auto& v : snp::FindViolations(r, verified->product, val)) a.reasons.push_back("snp: " + v);

  Claims& c = a.claims;
  c.debug = snp::DecodePolicy(r.policy).debug;
  c.product = std::string(snp::ProductName(verified->product));
  c.measurement.assign(r.measurement.begin(), r.measurement.end());
  c.host_data.assign(r.host_data.begin(), r.host_data.end());
  c.report_data.assign(r.report_data.begin(), r.report_data.end());
  snp::TcbParts t = snp::DecodeTcb(r.reported_tcb, verified->product);
  if (snp::UsesTurinLayout(verified->product)) c.tcb["fmc"] = t.fmc;
  c.tcb["bootloader"] = t.bootloader;
  c.tcb["tee"] = t.tee;
  c.tcb["snp"] = t.snp;
  c.tcb["microcode"] = t.microcode;
  c.policy = r.policy;
  c.guest_svn = r.guest_svn;
  c.id_key_digest.assign(r.id_key_digest.begin(), r.id_key_digest.end());
  c.author_key_digest.assign(r.author_key_digest.begin(), r.author_key_digest.end());
  if (!options.snp_roots.empty()) {
    bool any_builtin = false;
    for (const auto& root : options.snp_roots) any_builtin |= IsBuiltinArk(root);
    c.simulated_root = !any_builtin;
  }
  return r;
}

}  // namespace cvm::evidence::internal
