// GPUs in a bundle: the "nvidia" entry of the runtime data's additional evidence, verified with
// the nonce the runtime data gives (gpu-evidence.md section 4: Trustee's KBS rebuilds
// {"nonce", "tee-pubkey"}, hashes it and its NVIDIA verifier keeps the first 32 bytes).
#include <algorithm>

#include "common/encoding.h"
#include "evidence/appraise.h"
#include "evidence/kbs.h"
#include "gpu/evidence_json.h"

namespace cvm::evidence::internal {
namespace {

using nlohmann::json;

GpuClaims ClaimsOf(const gpu::GpuVerdict& v) {
  GpuClaims c;
  c.arch = std::string(gpu::ArchitectureName(v.arch));
  c.uuid = v.uuid;
  if (v.report) {
    const gpu::OpaqueData& od = v.report->opaque;
    c.driver_version = od.driver_version;
    c.vbios_version = od.vbios_version;
    if (od.feature_flag) c.cc_mode = gpu::FeatureFlagName(*od.feature_flag);
    for (const auto& b : v.report->blocks) {
      bool zero = std::all_of(b.value.begin(), b.value.end(), [](uint8_t x) { return x == 0; });
      if (!zero) c.measurement_values[b.index] = b.value;
    }
  }
  c.hwmodel = v.hwmodel;
  c.ueid = v.ueid;
  c.fwid = v.fwid;
  c.measurements = std::string(gpu::MeasurementStatusName(v.measurements));
  c.mismatched_indices = v.mismatched_indices;
  c.driver_rim = v.driver_rim;
  c.vbios_rim = v.vbios_rim;
  return c;
}

}  // namespace

Result<std::optional<std::string>> NvidiaEvidenceOf(const json& rt) {
  auto add = rt.find("additional-evidence");
  if (add == rt.end()) return std::optional<std::string>();
  if (!add->is_string()) return InvalidInput("runtime-data: additional-evidence is not a string");
  const std::string& text = add->get_ref<const std::string&>();
  if (text.empty()) return std::optional<std::string>();
  json parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return InvalidInput("runtime-data: additional-evidence is not the JSON text of an object");
  }
  auto it = parsed.find("nvidia");
  if (it == parsed.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->dump());
}

void AppraiseGpus(const Bundle& b, const BundleVerifyOptions& o, Appraisal& a) {
  std::optional<std::string> nvidia;
  if (b.runtime_data && b.runtime_data->is_object()) {
    auto found = NvidiaEvidenceOf(*b.runtime_data);
    if (!found.ok()) {
      a.reasons.push_back(found.status().message());
      return;
    }
    nvidia = std::move(found).value();
  }
  if (!nvidia) {
    if (o.require_gpus) {
      a.reasons.push_back(
          "gpu: GPU evidence is required but the bundle carries none (no \"nvidia\" entry in "
          "the runtime data's additional-evidence)");
    }
    return;
  }
  // The GPU nonce: the runtime data without the additional evidence, hashed as the binding is.
  json without = *b.runtime_data;
  without.erase("additional-evidence");
  auto jcs = CanonicalJson(without);
  if (!jcs.ok()) {
    a.reasons.push_back("gpu: runtime-data: " + jcs.status().ToString());
    return;
  }
  Bytes digest = Digest(b.runtime_data_hash, AsBytes(*jcs));
  gpu::VerifyOptions go = o.gpu;
  go.at = o.at;
  auto verdict = gpu::VerifyNvidiaEvidence(*nvidia, digest, go);
  if (!verdict.ok()) {
    a.reasons.push_back("gpu: nvidia evidence: " + verdict.status().ToString());
    return;
  }
  const size_t reasons_before = a.reasons.size();
  for (size_t i = 0; i < verdict->gpus.size(); ++i) {
    const gpu::GpuVerdict& g = verdict->gpus[i];
    std::string prefix = "gpu" + std::to_string(i) + ": ";
    for (const auto& r : g.reasons) a.reasons.push_back(prefix + r);
    for (const auto& w : g.warnings) a.notes.push_back(prefix + w);
    a.claims.gpus.push_back(ClaimsOf(g));
  }
  for (const auto& r : verdict->reasons) a.reasons.push_back("gpu: " + r);
  if (!verdict->verified && a.reasons.size() == reasons_before) {
    a.reasons.push_back("gpu: the GPU evidence did not verify");
  }
}

}  // namespace cvm::evidence::internal
