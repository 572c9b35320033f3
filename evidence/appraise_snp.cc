// SNP hardware evidence through snp::Appraise, the one SNP entry every front door uses.
#include "common/chain_cache.h"
#include "common/clock.h"
#include "common/x509.h"
#include "evidence/appraise.h"
#include "snp/roots.h"

namespace cvm::evidence::internal {
namespace {

bool IsBuiltinArk(const Certificate& root) {
  for (const auto& ark : snp::BuiltinArks()) {
    if (ark.Fingerprint(DigestAlg::kSha256) == root.Fingerprint(DigestAlg::kSha256)) return true;
  }
  return false;
}

}  // namespace

void AddVerdict(const Verdict& verdict, const std::string& prefix, Appraisal& a) {
  for (const auto& r : verdict.reasons) a.reasons.push_back(prefix + r);
  for (const auto& n : verdict.notes) a.notes.push_back(prefix + n);
}

std::optional<snp::AppraiseOptions> SnpOptions(const std::vector<Bytes>& certs,
                                               const BundleVerifyOptions& options,
                                               std::optional<snp::KdsClient>& kds, Appraisal& a) {
  snp::AppraiseOptions o;
  for (size_t i = 0; i < certs.size(); ++i) {
    auto c = CertificateFromDerCached(options.chain_cache, certs[i]);
    if (!c.ok()) {
      a.reasons.push_back("certs[" + std::to_string(i) + "]: " + c.status().ToString());
      return std::nullopt;
    }
    o.certs.push_back(std::move(*c));
  }
  if (o.certs.empty() && options.http != nullptr) {
    kds.emplace(options.http, "");
    o.kds = &*kds;
    a.notes.push_back("snp: the bundle carries no VCEK: fetched from AMD KDS");
  }
  o.roots = options.snp_roots;
  o.crls = options.crls;
  o.chain_cache = options.chain_cache;
  o.expected.allow_debug = options.allow_debug;
  return o;
}

void SnpClaims(const snp::VerifiedReport& verified, const BundleVerifyOptions& options, Claims& c) {
  const snp::Report& r = verified.report;
  c.debug = snp::DecodePolicy(r.policy).debug;
  c.product = std::string(snp::ProductName(verified.product));
  c.measurement.assign(r.measurement.begin(), r.measurement.end());
  c.host_data.assign(r.host_data.begin(), r.host_data.end());
  c.chip_id.assign(r.chip_id.begin(), r.chip_id.end());
  c.report_data.assign(r.report_data.begin(), r.report_data.end());
  snp::TcbParts t = snp::DecodeTcb(r.reported_tcb, verified.product);
  if (snp::UsesTurinLayout(verified.product)) c.tcb["fmc"] = t.fmc;
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
}

std::optional<snp::Report> AppraiseSnp(ByteSpan report_bytes, const std::vector<Bytes>& certs,
                                       const BundleVerifyOptions& options, Appraisal& a) {
  std::optional<snp::KdsClient> kds;
  auto o = SnpOptions(certs, options, kds, a);
  if (!o) return std::nullopt;
  auto appraisal = snp::Appraise(report_bytes, *o, FixedClock(options.at));
  if (!appraisal.ok()) {
    a.reasons.push_back("snp: " + appraisal.status().ToString());
    return std::nullopt;
  }
  AddVerdict(appraisal->verdict, "snp: ", a);
  if (!appraisal->verified) return std::nullopt;
  SnpClaims(*appraisal->verified, options, a.claims);
  return appraisal->verified->report;
}

}  // namespace cvm::evidence::internal
