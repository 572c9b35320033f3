#include "common/verdict.h"

namespace cvm {

nlohmann::ordered_json VerdictToJson(const Verdict& v) {
  nlohmann::ordered_json j;
  j["verified"] = v.verified;
  j["tee"] = v.tee;
  j["genuine"] = v.genuine;
  j["reasons"] = v.reasons;
  j["checks"] = v.checks;
  j["notes"] = v.notes;
  j["product"] = v.product;
  j["tcb"] = v.tcb;
  j["measurement"] = v.measurement;
  j["report_data"] = v.report_data;
  j["details"] = v.details.is_object() ? v.details : nlohmann::ordered_json::object();
  j["report"] = v.report;
  return j;
}

std::string TeeDisplayName(const std::string& tee) {
  if (tee == "snp") return "AMD SEV-SNP report";
  if (tee == "tdx") return "Intel TDX quote";
  if (tee == "az-snp-vtpm") return "Azure HCL report (SEV-SNP)";
  if (tee == "tpm") return "TPM quote";
  return tee;
}

std::string VerdictSummary(const Verdict& v) {
  std::string out = v.verified ? "verified: " : "REJECTED: ";
  out += TeeDisplayName(v.tee);
  if (!v.product.empty()) out += " (" + v.product + ")";
  out += v.verified ? "\n" : (v.genuine ? ", genuine but not as expected\n" : ", not genuine\n");
  auto line = [&out](const char* key, const std::string& value) {
    if (!value.empty()) out += std::string("  ") + key + ": " + value + "\n";
  };
  line("tcb", v.tcb);
  line("measurement", v.measurement);
  line("report_data", v.report_data);
  for (const auto& r : v.reasons) line("reason", r);
  for (const auto& n : v.notes) line("note", n);
  return out;
}

}  // namespace cvm
