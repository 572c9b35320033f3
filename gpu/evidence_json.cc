#include "gpu/evidence_json.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "common/encoding.h"

namespace cvm::gpu {
namespace {

using json = nlohmann::json;

bool AllHex(std::string_view s) {
  return !s.empty() && s.size() % 2 == 0 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c));
  });
}

Result<std::string> Field(const json& e, const char* name, bool required) {
  if (!e.contains(name)) {
    if (required) return InvalidInput(std::string("no \"") + name + "\"");
    return std::string();
  }
  if (!e[name].is_string()) return InvalidInput(std::string("\"") + name + "\" is not a string");
  return e[name].get<std::string>();
}

Result<GpuEvidence> ParseEntry(const json& e) {
  if (!e.is_object()) return InvalidInput("not an object");
  GpuEvidence g;
  CVM_ASSIGN_OR_RETURN(std::string arch, Field(e, "arch", true));
  CVM_ASSIGN_OR_RETURN(g.arch, ParseArchitecture(arch));
  CVM_ASSIGN_OR_RETURN(g.uuid, Field(e, "uuid", false));
  CVM_ASSIGN_OR_RETURN(std::string evidence, Field(e, "evidence", true));
  // Trustee accepts the report as hex or base64; a base64 report always has non-hex characters.
  auto report = AllHex(evidence) ? HexDecode(evidence) : Base64Decode(evidence);
  if (!report.ok()) return report.status().WithContext("\"evidence\"");
  if (report->size() > kMaxReportSize) {
    return InvalidInput("\"evidence\" is " + std::to_string(report->size()) +
                        " bytes, over NVML's " + std::to_string(kMaxReportSize));
  }
  g.report = std::move(report).value();
  CVM_ASSIGN_OR_RETURN(std::string cert, Field(e, "certificate", true));
  Bytes pem;
  if (cert.find("-----BEGIN") != std::string::npos) {
    pem = ToBytes(AsBytes(cert));
  } else {
    auto d = Base64Decode(cert);
    if (!d.ok()) return d.status().WithContext("\"certificate\"");
    pem = std::move(d).value();
  }
  auto chain = ParseCertificates(pem);
  if (!chain.ok()) return chain.status().WithContext("\"certificate\"");
  g.chain = std::move(chain).value();
  return g;
}

Result<std::vector<GpuEvidence>> ParseValue(const json& j, int depth) {
  if (depth > 3) return InvalidInput("gpu evidence json: nested too deeply");
  if (j.is_string()) {
    json inner = json::parse(j.get<std::string>(), nullptr, /*allow_exceptions=*/false);
    if (inner.is_discarded()) return InvalidInput("gpu evidence json: string is not JSON");
    return ParseValue(inner, depth + 1);
  }
  if (j.is_object()) {
    if (j.contains("nvidia")) return ParseValue(j["nvidia"], depth + 1);
    if (j.contains("device_evidence_list")) {
      return ParseValue(j["device_evidence_list"], depth + 1);
    }
    return InvalidInput("gpu evidence json: object without \"device_evidence_list\" or \"nvidia\"");
  }
  if (!j.is_array()) return InvalidInput("gpu evidence json: not a list of GPU evidence");
  if (j.size() > kMaxGpusPerList) {
    return InvalidInput("gpu evidence json: " + std::to_string(j.size()) + " entries, over " +
                        std::to_string(kMaxGpusPerList));
  }
  std::vector<GpuEvidence> out;
  for (size_t i = 0; i < j.size(); ++i) {
    auto g = ParseEntry(j[i]);
    if (!g.ok()) return g.status().WithContext("gpu evidence json: entry " + std::to_string(i));
    out.push_back(std::move(g).value());
  }
  return out;
}

}  // namespace

Result<std::vector<GpuEvidence>> ParseEvidenceJson(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidInput("gpu evidence json: not valid JSON");
  return ParseValue(j, 0);
}

std::string EvidenceListJson(std::span<const GpuEvidence> gpus) {
  json list = json::array();
  for (const auto& g : gpus) {
    std::string pem;
    for (const auto& c : g.chain) pem += c.Pem();
    json e;
    e["arch"] = std::string(ArchitectureName(g.arch));
    if (!g.uuid.empty()) e["uuid"] = g.uuid;
    e["evidence"] = Base64Encode(g.report);
    e["certificate"] = Base64Encode(AsBytes(pem));
    list.push_back(std::move(e));
  }
  json out;
  out["device_evidence_list"] = std::move(list);
  return out.dump();
}

}  // namespace cvm::gpu
