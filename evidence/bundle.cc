// The bundle's JSON form (docs/evidence.md): a versioned object, binaries in base64 (RFC 4648
// section 4, padded), digests in lowercase hex. Parsing is strict: unknown members, wrong types,
// bad encodings and oversized members are refused naming the member.
#include "evidence/bundle.h"

#include <string>

#include "common/encoding.h"
#include "evidence/init_data.h"
#include "evidence/json_util.h"
#include "tpm/pcr.h"

namespace cvm::evidence {
namespace {

using internal::Base64Member;
using internal::Member;
using internal::OnlyMembers;
using internal::Uint;
using nlohmann::json;
using nlohmann::ordered_json;

constexpr std::string_view kVersionKey = "cvm-evidence-bundle";

// Limits (docs/evidence.md). Generous for real evidence, small enough to bound memory.
constexpr size_t kMaxDocument = 16 << 20;
constexpr size_t kMaxReport = 64 << 10;  // SNP report, TDX quote, HCL report
constexpr size_t kMaxCert = 16 << 10;
constexpr size_t kMaxCerts = 16;
constexpr size_t kMaxCollateral = 1 << 20;
constexpr size_t kMaxTpmPart = 4 << 10;      // AK, public area, TPMS_ATTEST, signature
constexpr size_t kMaxLog = 4 << 20;          // TPM event log, CCEL
constexpr size_t kMaxRuntimeData = 2 << 20;  // GPU evidence: ~12 KiB per GPU, up to 64 GPUs
constexpr size_t kMaxInitData = kMaxInitDataBytes;

Result<Bytes> Sized(const json& value, std::string_view name, size_t max) {
  CVM_ASSIGN_OR_RETURN(Bytes b, Base64Member(value, name));
  if (b.size() > max) {
    return InvalidInput(std::string(name) + ": " + std::to_string(b.size()) +
                        " bytes exceed the limit of " + std::to_string(max));
  }
  return b;
}

Result<std::vector<Bytes>> SizedList(const json& value, std::string_view name, size_t max_each,
                                     size_t max_count) {
  if (!value.is_array()) return InvalidInput(std::string(name) + ": not an array");
  if (value.size() > max_count) {
    return InvalidInput(std::string(name) + ": more than " + std::to_string(max_count) +
                        " entries");
  }
  std::vector<Bytes> out;
  for (size_t i = 0; i < value.size(); ++i) {
    CVM_ASSIGN_OR_RETURN(
        Bytes b, Sized(value[i], std::string(name) + "[" + std::to_string(i) + "]", max_each));
    out.push_back(std::move(b));
  }
  return out;
}

ordered_json PcrsToJson(const std::map<DigestAlg, std::map<uint32_t, Bytes>>& pcrs) {
  ordered_json j = ordered_json::object();
  for (const auto& [alg, bank] : pcrs) {
    ordered_json b = ordered_json::object();
    for (const auto& [index, value] : bank) b[std::to_string(index)] = HexEncode(value);
    j[std::string(DigestName(alg))] = b;
  }
  return j;
}

Result<std::map<DigestAlg, std::map<uint32_t, Bytes>>> PcrsFromJson(const json& j) {
  if (!j.is_object()) return InvalidInput("tpm.pcrs: not an object");
  std::map<DigestAlg, std::map<uint32_t, Bytes>> out;
  for (const auto& [name, bank] : j.items()) {
    std::string path = "tpm.pcrs." + name;
    CVM_ASSIGN_OR_RETURN(DigestAlg alg, tpm::ParseBankName(name).WithContext(path));
    if (!bank.is_object()) return InvalidInput(path + ": not an object");
    for (const auto& [index, value] : bank.items()) {
      std::string ipath = path + "." + index;
      if (index.empty() || index.size() > 2 ||
          index.find_first_not_of("0123456789") != std::string::npos ||
          (index.size() == 2 && index[0] == '0') || std::stoul(index) > tpm::kMaxPcr) {
        return InvalidInput(ipath + ": not a PCR index 0..23");
      }
      CVM_ASSIGN_OR_RETURN(Bytes v, internal::HexMember(value, DigestSize(alg), ipath));
      out[alg][static_cast<uint32_t>(std::stoul(index))] = std::move(v);
    }
  }
  return out;
}

ordered_json TpmToJson(const TpmEvidence& t) {
  ordered_json j;
  if (!t.ak_public.empty()) j["ak-public"] = Base64Encode(t.ak_public);
  if (!t.ak_public_area.empty()) j["ak-public-area"] = Base64Encode(t.ak_public_area);
  j["attest"] = Base64Encode(t.attest);
  j["signature"] = Base64Encode(t.signature);
  j["pcrs"] = PcrsToJson(t.pcrs);
  if (!t.event_log.empty()) j["event-log"] = Base64Encode(t.event_log);
  if (!t.ak_certs.empty()) {
    j["ak-certs"] = ordered_json::array();
    for (const auto& c : t.ak_certs) j["ak-certs"].push_back(Base64Encode(c));
  }
  return j;
}

Result<TpmEvidence> TpmFromJson(const json& j) {
  CVM_RETURN_IF_ERROR(OnlyMembers(
      j, {"ak-public", "ak-public-area", "attest", "signature", "pcrs", "event-log", "ak-certs"},
      "tpm"));
  TpmEvidence t;
  if (auto it = j.find("ak-public"); it != j.end()) {
    CVM_ASSIGN_OR_RETURN(t.ak_public, Sized(*it, "tpm.ak-public", kMaxTpmPart));
  }
  if (auto it = j.find("ak-public-area"); it != j.end()) {
    CVM_ASSIGN_OR_RETURN(t.ak_public_area, Sized(*it, "tpm.ak-public-area", kMaxTpmPart));
  }
  CVM_ASSIGN_OR_RETURN(const json* attest, Member(j, "attest", "tpm"));
  CVM_ASSIGN_OR_RETURN(t.attest, Sized(*attest, "tpm.attest", kMaxTpmPart));
  CVM_ASSIGN_OR_RETURN(const json* sig, Member(j, "signature", "tpm"));
  CVM_ASSIGN_OR_RETURN(t.signature, Sized(*sig, "tpm.signature", kMaxTpmPart));
  CVM_ASSIGN_OR_RETURN(const json* pcrs, Member(j, "pcrs", "tpm"));
  CVM_ASSIGN_OR_RETURN(t.pcrs, PcrsFromJson(*pcrs));
  if (auto it = j.find("event-log"); it != j.end()) {
    CVM_ASSIGN_OR_RETURN(t.event_log, Sized(*it, "tpm.event-log", kMaxLog));
  }
  if (auto it = j.find("ak-certs"); it != j.end()) {
    CVM_ASSIGN_OR_RETURN(t.ak_certs, SizedList(*it, "tpm.ak-certs", kMaxCert, kMaxCerts));
  }
  return t;
}

}  // namespace

ordered_json ToJson(const Bundle& b) {
  ordered_json j;
  j[std::string(kVersionKey)] = b.version;
  j["tee"] = std::string(TeeKindName(b.tee));
  j["report"] = Base64Encode(b.report);
  if (!b.certs.empty()) {
    j["certs"] = ordered_json::array();
    for (const auto& c : b.certs) j["certs"].push_back(Base64Encode(c));
  }
  if (!b.collateral.empty()) j["collateral"] = b.collateral;
  if (!b.td_quote.empty()) j["td-quote"] = Base64Encode(b.td_quote);
  if (b.tpm) j["tpm"] = TpmToJson(*b.tpm);
  if (!b.ccel.empty()) j["ccel"] = Base64Encode(b.ccel);
  if (b.runtime_data) {
    j["runtime-data"] = ordered_json::parse(b.runtime_data->dump());
    j["runtime-data-hash"] = std::string(KbsHashAlgorithmName(b.runtime_data_hash));
  }
  if (b.report_data_raw) j["report-data"] = HexEncode(*b.report_data_raw);
  if (b.init_data) j["init-data"] = {{"format", b.init_data->format}, {"body", b.init_data->body}};
  if (b.tee == TeeKind::kAzSnpVtpm || b.tee == TeeKind::kAzTdxVtpm) {
    j["azure-evidence-version"] = b.azure_evidence_version;
  }
  return j;
}

bool LooksLikeBundle(std::string_view text) {
  if (text.size() > kMaxDocument) return false;
  json j = json::parse(text, nullptr, false);
  return !j.is_discarded() && j.is_object() && j.contains(std::string(kVersionKey));
}

Result<Bundle> ParseBundle(std::string_view text) {
  if (text.size() > kMaxDocument) {
    return InvalidInput("bundle: larger than " + std::to_string(kMaxDocument) + " bytes");
  }
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return InvalidInput("bundle: not JSON");
  if (!j.is_object()) return InvalidInput("bundle: not a JSON object");
  CVM_ASSIGN_OR_RETURN(const json* version, Member(j, kVersionKey, ""));
  CVM_ASSIGN_OR_RETURN(uint64_t v, Uint(*version, 1u << 20, kVersionKey));
  if (v != static_cast<uint64_t>(kBundleVersion)) {
    return Unsupported(std::string(kVersionKey) + ": version " + std::to_string(v) +
                       " is not supported (this build reads version " +
                       std::to_string(kBundleVersion) + ")");
  }
  CVM_RETURN_IF_ERROR(OnlyMembers(
      j,
      {kVersionKey, "tee", "report", "certs", "collateral", "td-quote", "tpm", "ccel",
       "runtime-data", "runtime-data-hash", "report-data", "init-data", "azure-evidence-version"},
      ""));
  Bundle b;
  b.version = static_cast<int>(v);
  CVM_ASSIGN_OR_RETURN(const json* tee, Member(j, "tee", ""));
  CVM_ASSIGN_OR_RETURN(std::string tee_name, internal::String(*tee, "tee"));
  CVM_ASSIGN_OR_RETURN(b.tee, ParseTeeKind(tee_name).WithContext("tee"));
  const bool azure = b.tee == TeeKind::kAzSnpVtpm || b.tee == TeeKind::kAzTdxVtpm;
  CVM_ASSIGN_OR_RETURN(const json* report, Member(j, "report", ""));
  CVM_ASSIGN_OR_RETURN(b.report, Sized(*report, "report", kMaxReport));
  if (b.report.empty()) return InvalidInput("report: empty");
  if (auto it = j.find("certs"); it != j.end()) {
    CVM_ASSIGN_OR_RETURN(b.certs, SizedList(*it, "certs", kMaxCert, kMaxCerts));
  }
  if (auto it = j.find("collateral"); it != j.end()) {
    CVM_ASSIGN_OR_RETURN(b.collateral, internal::String(*it, "collateral"));
    if (b.collateral.size() > kMaxCollateral) {
      return InvalidInput("collateral: larger than " + std::to_string(kMaxCollateral) + " bytes");
    }
  }
  if (auto it = j.find("td-quote"); it != j.end()) {
    if (b.tee != TeeKind::kAzTdxVtpm) return InvalidInput("td-quote: only for az-tdx-vtpm");
    CVM_ASSIGN_OR_RETURN(b.td_quote, Sized(*it, "td-quote", kMaxReport));
  }
  if (auto it = j.find("tpm"); it != j.end()) {
    CVM_ASSIGN_OR_RETURN(TpmEvidence t, TpmFromJson(*it));
    b.tpm = std::move(t);
  }
  if (azure && !b.tpm) return InvalidInput("tpm: required for " + tee_name);
  if (auto it = j.find("ccel"); it != j.end()) {
    if (b.tee != TeeKind::kTdx) return InvalidInput("ccel: only for tdx");
    CVM_ASSIGN_OR_RETURN(b.ccel, Sized(*it, "ccel", kMaxLog));
  }
  if (auto it = j.find("runtime-data"); it != j.end()) {
    if (!it->is_object()) return InvalidInput("runtime-data: not a JSON object");
    if (it->dump().size() > kMaxRuntimeData) {
      return InvalidInput("runtime-data: larger than " + std::to_string(kMaxRuntimeData) +
                          " bytes");
    }
    b.runtime_data = *it;
    CVM_ASSIGN_OR_RETURN(const json* hash, Member(j, "runtime-data-hash", ""));
    CVM_ASSIGN_OR_RETURN(std::string hash_name, internal::String(*hash, "runtime-data-hash"));
    CVM_ASSIGN_OR_RETURN(b.runtime_data_hash,
                         ParseKbsHashAlgorithm(hash_name).WithContext("runtime-data-hash"));
  } else if (j.contains("runtime-data-hash")) {
    return InvalidInput("runtime-data-hash: without runtime-data");
  }
  if (auto it = j.find("report-data"); it != j.end()) {
    CVM_ASSIGN_OR_RETURN(Bytes rd, internal::HexMember(*it, 0, "report-data"));
    if (azure ? (rd.empty() || rd.size() > 64) : rd.size() != 64) {
      return InvalidInput(azure ? "report-data: must be 1..64 bytes (the TPM quote's nonce)"
                                : "report-data: must be 64 bytes");
    }
    b.report_data_raw = std::move(rd);
  }
  if (b.runtime_data.has_value() == b.report_data_raw.has_value()) {
    return InvalidInput("bundle: exactly one of runtime-data and report-data must be present");
  }
  if (auto it = j.find("init-data"); it != j.end()) {
    CVM_RETURN_IF_ERROR(OnlyMembers(*it, {"format", "body"}, "init-data"));
    InitData init;
    CVM_ASSIGN_OR_RETURN(const json* format, Member(*it, "format", "init-data"));
    CVM_ASSIGN_OR_RETURN(init.format, internal::String(*format, "init-data.format"));
    CVM_ASSIGN_OR_RETURN(const json* body, Member(*it, "body", "init-data"));
    CVM_ASSIGN_OR_RETURN(init.body, internal::String(*body, "init-data.body"));
    if (init.body.size() > kMaxInitData) return InvalidInput("init-data.body: too large");
    b.init_data = std::move(init);
  }
  if (auto it = j.find("azure-evidence-version"); it != j.end()) {
    if (!azure) return InvalidInput("azure-evidence-version: only for the Azure kinds");
    CVM_ASSIGN_OR_RETURN(uint64_t av, Uint(*it, 2, "azure-evidence-version"));
    b.azure_evidence_version = static_cast<int>(av);
  }
  return b;
}

}  // namespace cvm::evidence
