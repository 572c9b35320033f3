// VerifyBundle: the order of the checks is the one docs/evidence.md lists.
#include "common/encoding.h"
#include "evidence/appraise.h"
#include "evidence/bundle.h"
#include "evidence/init_data.h"
#include "evidence/kbs.h"

namespace cvm::evidence {
namespace {

using internal::Appraisal;
using nlohmann::json;
using nlohmann::ordered_json;

// What the evidence must commit to, from runtime_data or the raw report data.
struct Expected {
  std::optional<Bytes> report_data;  // SNP/TDX REPORT_DATA (64 bytes)
  std::optional<Bytes> digest;       // H(JCS(runtime_data)); Azure: the TPM quote's nonce
  std::optional<Bytes> tpm_nonce;    // bare SNP/TDX with a vTPM
};

bool IsAzure(TeeKind k) { return k == TeeKind::kAzSnpVtpm || k == TeeKind::kAzTdxVtpm; }

// The runtime data's own checks (nonce, TEE key, the TPM evidence the REPORT_DATA covers) and
// the values the hardware evidence must carry.
Expected Binding(const Bundle& b, const BundleVerifyOptions& o, Appraisal& a) {
  Expected e;
  if (b.runtime_data && b.report_data_raw) {
    a.reasons.push_back("bundle: both runtime-data and report-data are set");
    return e;
  }
  if (b.runtime_data) {
    const json& rt = *b.runtime_data;
    if (!rt.is_object()) {
      a.reasons.push_back("runtime-data: not a JSON object");
      return e;
    }
    auto jcs = CanonicalJson(rt);
    if (!jcs.ok()) {
      a.reasons.push_back("runtime-data: " + jcs.status().ToString());
      return e;
    }
    e.digest = Digest(b.runtime_data_hash, AsBytes(*jcs));
    if (IsAzure(b.tee)) {
      e.report_data = std::nullopt;  // the hardware report binds the HCL claims instead
    } else {
      e.report_data = PadReportData(*e.digest);
    }
    if (o.expected_nonce) {
      auto n = rt.find("nonce");
      if (n == rt.end() || !n->is_string() || n->get<std::string>() != *o.expected_nonce) {
        a.reasons.push_back("runtime-data: nonce is not the one the verifier issued");
      }
    } else {
      a.notes.push_back("nonce not checked: no expected nonce given (offline inspection)");
    }
    if (o.expected_tee_pubkey) {
      auto k = rt.find("tee-pubkey");
      if (k == rt.end() || *k != *o.expected_tee_pubkey) {
        a.reasons.push_back("runtime-data: tee-pubkey is not the key the verifier encrypts to");
      }
    }
    if (b.tpm && !IsAzure(b.tee)) {
      // The TPM evidence must be the one REPORT_DATA covers, inside additional-evidence.
      auto add = rt.find("additional-evidence");
      json parsed = add != rt.end() && add->is_string()
                        ? json::parse(add->get<std::string>(), nullptr, false)
                        : json();
      const json* t = parsed.is_object() && parsed.contains("tpm") ? &parsed["tpm"] : nullptr;
      if (t == nullptr || !t->is_object() || !t->contains("ak_public") ||
          (*t)["ak_public"] != Base64Encode(b.tpm->ak_public)) {
        a.reasons.push_back(
            "runtime-data: additional-evidence does not carry this bundle's TPM AK, so the "
            "report does not bind the TPM");
      } else if (!b.tpm->ak_public_area.empty() &&
                 (!t->contains("ak_public_area") ||
                  (*t)["ak_public_area"] != Base64Encode(b.tpm->ak_public_area))) {
        a.reasons.push_back("runtime-data: additional-evidence carries another AK public area");
      }
      json without = rt;
      without.erase("additional-evidence");
      auto tj = CanonicalJson(without);
      if (tj.ok()) e.tpm_nonce = PadReportData(Digest(b.runtime_data_hash, AsBytes(*tj)));
    }
    if (o.expected_report_data) {
      a.reasons.push_back("expected report data given, but the bundle binds runtime data");
    }
    return e;
  }
  if (b.report_data_raw) {
    if (o.expected_nonce || o.expected_tee_pubkey) {
      a.reasons.push_back("a nonce or TEE key is expected, but the bundle has raw report data");
    }
    if (o.expected_report_data && *o.expected_report_data != *b.report_data_raw) {
      a.reasons.push_back("report-data is not the expected report data");
    }
    if (IsAzure(b.tee)) {
      e.digest = *b.report_data_raw;
    } else {
      e.report_data = *b.report_data_raw;
      if (b.tpm) {
        a.reasons.push_back("raw report data cannot bind a TPM: use runtime data");
      }
    }
    return e;
  }
  // Neither: evidence read from a file (FromTrusteeEvidenceFile).
  if (o.expected_nonce || o.expected_tee_pubkey) {
    a.reasons.push_back("a nonce or TEE key is expected, but the bundle carries no runtime data");
  }
  if (o.expected_report_data) {
    if (IsAzure(b.tee)) {
      e.digest = *o.expected_report_data;
    } else {
      e.report_data = PadReportData(*o.expected_report_data);
    }
  } else {
    a.notes.push_back("binding not checked: the evidence comes without runtime data");
  }
  return e;
}

void CheckReportData(const Expected& e, Appraisal& a) {
  if (!e.report_data || a.claims.report_data.empty()) return;
  if (a.claims.report_data != *e.report_data) {
    a.reasons.push_back("REPORT_DATA " + HexEncode(a.claims.report_data) +
                        " is not the binding of the runtime data " + HexEncode(*e.report_data));
  }
}

ordered_json PcrsJson(const std::map<DigestAlg, std::map<uint32_t, Bytes>>& pcrs) {
  ordered_json j = ordered_json::object();
  for (const auto& [alg, bank] : pcrs) {
    ordered_json b = ordered_json::object();
    for (const auto& [i, v] : bank) b[std::to_string(i)] = HexEncode(v);
    j[std::string(DigestName(alg))] = b;
  }
  return j;
}

// The init-data must be what the hardware evidence commits to (init_data.h): its digest in SNP
// HOST_DATA, TDX MRCONFIGID, or Azure's sha256 PCR 8. Its [data] table becomes a claim.
void AppraiseInitData(const InitData& init, Appraisal& a) {
  if (init.format != "toml") {
    a.reasons.push_back("init-data: format '" + init.format + "' (only toml is defined)");
    return;
  }
  auto parsed = ParseInitData(init.body);
  if (!parsed.ok()) {
    a.reasons.push_back(parsed.status().message());
    return;
  }
  const Bytes& d = parsed->digest;
  const std::string alg(DigestName(parsed->algorithm));
  switch (a.claims.tee) {
    case TeeKind::kSnp:
    case TeeKind::kTdx: {
      const bool snp = a.claims.tee == TeeKind::kSnp;
      Bytes want = RegularizeDigest(d, snp ? 32 : 48);
      if (a.claims.host_data != want) {
        a.reasons.push_back(std::string("init-data: its ") + alg + " digest " + HexEncode(want) +
                            " is not the report's " + (snp ? "HOST_DATA " : "MRCONFIGID ") +
                            HexEncode(a.claims.host_data));
      }
      break;
    }
    case TeeKind::kAzSnpVtpm:
    case TeeKind::kAzTdxVtpm: {
      Bytes want = AzureInitDataPcr8(d);
      const Bytes* pcr8 = nullptr;
      if (auto bank = a.claims.pcrs.find(DigestAlg::kSha256); bank != a.claims.pcrs.end()) {
        if (auto v = bank->second.find(8); v != bank->second.end()) pcr8 = &v->second;
      }
      if (pcr8 == nullptr) {
        a.reasons.push_back("init-data: the quote does not cover sha256 PCR 8, which binds it");
      } else if (*pcr8 != want) {
        a.reasons.push_back("init-data: sha256 PCR 8 is " + HexEncode(*pcr8) + ", not " +
                            HexEncode(want) + " (the init-data's " + alg + " digest extended)");
      }
      break;
    }
  }
  a.claims.init_data_claims = std::move(parsed->data);
}

}  // namespace

json Claims::ToJson() const {
  ordered_json j;
  j["tee"] = std::string(TeeKindName(tee));
  j["debug"] = debug;
  j["product"] = product;
  j["measurement"] = HexEncode(measurement);
  if (!rtmrs.empty()) {
    j["rtmrs"] = ordered_json::array();
    for (const auto& r : rtmrs) j["rtmrs"].push_back(HexEncode(r));
  }
  j["host_data"] = HexEncode(host_data);
  j["report_data"] = HexEncode(report_data);
  if (!tcb.empty()) j["tcb"] = tcb;
  if (tcb_status) j["tcb_status"] = *tcb_status;
  if (!advisories.empty()) j["advisories"] = advisories;
  if (tee == TeeKind::kSnp || tee == TeeKind::kAzSnpVtpm) {
    j["policy"] = policy;
    j["guest_svn"] = guest_svn;
    j["id_key_digest"] = HexEncode(id_key_digest);
    j["author_key_digest"] = HexEncode(author_key_digest);
  } else {
    j["mrowner"] = HexEncode(mrowner);
    j["mrownerconfig"] = HexEncode(mrownerconfig);
    j["mrseam"] = HexEncode(mrseam);
  }
  if (!pcrs.empty()) j["pcrs"] = PcrsJson(pcrs);
  if (runtime_data) j["runtime_data"] = ordered_json::parse(runtime_data->dump());
  if (init_data) j["init_data"] = {{"format", init_data->format}, {"body", init_data->body}};
  if (init_data_claims) j["init_data_claims"] = ordered_json::parse(init_data_claims->dump());
  j["simulated_root"] = simulated_root;
  if (!gpus.empty()) {
    j["gpus"] = ordered_json::array();
    for (const auto& g : gpus) j["gpus"].push_back(ordered_json::parse(GpuJson(g).dump()));
  }
  return json::parse(j.dump());
}

// The claim names follow Trustee's local NVIDIA verifier (docs/tcb_claims.md there): arch, uuid,
// measurements{index -> hex}, config{driver_version, vbios_version, fwid, ...}.
json Claims::GpuJson(const GpuClaims& g) {
  json measurements = json::object();
  for (const auto& [index, value] : g.measurement_values) {
    measurements[std::to_string(index)] = HexEncode(value);
  }
  return json{{"arch", g.arch},
              {"uuid", g.uuid},
              {"hwmodel", g.hwmodel},
              {"ueid", g.ueid},
              {"cc_mode", g.cc_mode},
              {"measurements", measurements},
              {"rim_measurements", g.measurements},
              {"rim_mismatched_indices", g.mismatched_indices},
              {"driver_rim", g.driver_rim},
              {"vbios_rim", g.vbios_rim},
              {"config",
               {{"driver_version", g.driver_version},
                {"vbios_version", g.vbios_version},
                {"fwid", g.fwid},
                {"measurement_count", g.measurement_values.size()}}}};
}

ordered_json BundleVerdict::ToJson() const {
  ordered_json j;
  j["verified"] = verified;
  j["tee"] = std::string(TeeKindName(tee));
  j["reasons"] = reasons;
  j["notes"] = notes;
  j["claims"] = verified ? ordered_json::parse(claims.ToJson().dump()) : ordered_json(nullptr);
  return j;
}

Result<BundleVerdict> VerifyBundle(const Bundle& bundle, const BundleVerifyOptions& options) {
  Appraisal a;
  a.claims.tee = bundle.tee;
  if (bundle.version != kBundleVersion) {
    return Unsupported("bundle version " + std::to_string(bundle.version));
  }
  // 1. The runtime data: nonce, TEE key, what the evidence must commit to.
  Expected e = Binding(bundle, options, a);
  if (options.require_tpm && !bundle.tpm) {
    a.reasons.push_back("TPM evidence is required but the bundle carries none");
  }
  if (!bundle.ccel.empty() && bundle.tee != TeeKind::kTdx) {
    a.reasons.push_back("ccel: only TDX bundles carry a CCEL");
  }
  // 2. The hardware evidence, its safety defaults and the binding; 3. the TPM.
  switch (bundle.tee) {
    case TeeKind::kSnp:
      if (!bundle.td_quote.empty()) a.reasons.push_back("snp: a TD quote does not belong");
      if (internal::AppraiseSnp(bundle.report, bundle.certs, options, a)) {
        CheckReportData(e, a);
      }
      break;
    case TeeKind::kTdx: {
      if (!bundle.td_quote.empty()) a.reasons.push_back("tdx: td-quote is for az-tdx-vtpm");
      auto quote = internal::AppraiseTdx(bundle.report, bundle.collateral, options, a);
      if (quote) {
        CheckReportData(e, a);
        if (!bundle.ccel.empty()) {
          internal::AppraiseCcel(bundle.ccel, quote->body, a);
        } else {
          a.notes.push_back("ccel: none in the bundle, RTMRs are not explained by an event log");
        }
      }
      break;
    }
    case TeeKind::kAzSnpVtpm:
    case TeeKind::kAzTdxVtpm:
      internal::AppraiseAzure(bundle, options, e.digest, a);
      break;
  }
  if (bundle.tpm && !IsAzure(bundle.tee)) {
    internal::AppraiseTpm(*bundle.tpm, nullptr, e.tpm_nonce, a);
  }
  // 4. The GPUs of the additional evidence; 5. the init-data.
  internal::AppraiseGpus(bundle, options, a);
  if (bundle.init_data) AppraiseInitData(*bundle.init_data, a);
  a.claims.runtime_data = bundle.runtime_data;
  a.claims.init_data = bundle.init_data;

  BundleVerdict v;
  v.tee = bundle.tee;
  v.verified = a.reasons.empty();
  v.reasons = std::move(a.reasons);
  v.notes = std::move(a.notes);
  v.claims = std::move(a.claims);
  return v;
}

}  // namespace cvm::evidence
