#include "rp/messages.h"

#include <array>

namespace cvm::rp {
namespace {

using evidence::TeeKind;
using nlohmann::json;

struct TeeEntry {
  std::string_view name;
  TeeKind kind;
};
constexpr std::array<TeeEntry, 4> kTees = {{{"snp", TeeKind::kSnp},
                                            {"tdx", TeeKind::kTdx},
                                            {"az-snp-vtpm", TeeKind::kAzSnpVtpm},
                                            {"az-tdx-vtpm", TeeKind::kAzTdxVtpm}}};
// kbs-types `Tee` variants that this relying party cannot appraise.
constexpr std::array<std::string_view, 9> kOtherTees = {
    "nvidia", "sgx", "cca", "csv", "se", "hygondcu", "tpm", "sample", "sampledevice"};

Result<json> ParseObject(std::string_view body, std::string_view what) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidInput(std::string(what) + ": not valid JSON");
  if (!doc.is_object()) return InvalidInput(std::string(what) + ": not a JSON object");
  return doc;
}

Result<std::string> StringMember(const json& object, std::string_view name,
                                 std::string_view what) {
  auto it = object.find(name);
  if (it == object.end()) {
    return InvalidInput(std::string(what) + ": missing member \"" + std::string(name) + "\"");
  }
  if (!it->is_string()) {
    return InvalidInput(std::string(what) + ": \"" + std::string(name) + "\" is not a string");
  }
  return it->get<std::string>();
}

}  // namespace

std::string_view TeeName(TeeKind kind) {
  for (const auto& e : kTees) {
    if (e.kind == kind) return e.name;
  }
  return "unknown";
}

Result<TeeKind> ParseTee(std::string_view name) {
  for (const auto& e : kTees) {
    if (e.name == name) return e.kind;
  }
  for (auto other : kOtherTees) {
    if (other == name) {
      return Unsupported("TEE kind \"" + std::string(name) + "\" is not appraised here");
    }
  }
  return InvalidInput("\"" + std::string(name) + "\" is not a TEE kind");
}

Result<AuthRequest> ParseAuthRequest(std::string_view body) {
  CVM_ASSIGN_OR_RETURN(json doc, ParseObject(body, "request"));
  AuthRequest out;
  CVM_ASSIGN_OR_RETURN(out.version, StringMember(doc, "version", "request"));
  CVM_ASSIGN_OR_RETURN(out.tee, StringMember(doc, "tee", "request"));
  auto extra = doc.find("extra-params");
  // serde: a missing serde_json::Value field is an error, but null is a value.
  if (extra == doc.end()) return InvalidInput("request: missing member \"extra-params\"");
  out.extra_params = *extra;
  return out;
}

Result<AttestRequest> ParseAttestRequest(std::string_view body) {
  CVM_ASSIGN_OR_RETURN(json doc, ParseObject(body, "attestation"));
  AttestRequest out;
  if (auto it = doc.find("init-data"); it != doc.end() && !it->is_null()) {
    if (!it->is_object()) return InvalidInput("attestation: \"init-data\" is not an object");
    evidence::InitData init;
    CVM_ASSIGN_OR_RETURN(init.format, StringMember(*it, "format", "attestation: init-data"));
    CVM_ASSIGN_OR_RETURN(init.body, StringMember(*it, "body", "attestation: init-data"));
    out.init_data = std::move(init);
  }
  auto runtime = doc.find("runtime-data");
  if (runtime == doc.end()) return InvalidInput("attestation: missing member \"runtime-data\"");
  if (!runtime->is_object()) return InvalidInput("attestation: \"runtime-data\" is not an object");
  CVM_ASSIGN_OR_RETURN(out.nonce, StringMember(*runtime, "nonce", "attestation: runtime-data"));
  auto key = runtime->find("tee-pubkey");
  if (key == runtime->end()) {
    return InvalidInput("attestation: runtime-data: missing member \"tee-pubkey\"");
  }
  if (!key->is_object()) {
    return InvalidInput("attestation: runtime-data: \"tee-pubkey\" is not an object");
  }
  out.tee_pubkey = *key;
  auto evidence = doc.find("tee-evidence");
  if (evidence == doc.end()) return InvalidInput("attestation: missing member \"tee-evidence\"");
  if (!evidence->is_object()) {
    return InvalidInput("attestation: \"tee-evidence\" is not an object");
  }
  auto primary = evidence->find("primary_evidence");
  if (primary == evidence->end()) {
    return InvalidInput("attestation: tee-evidence: missing member \"primary_evidence\"");
  }
  out.primary_evidence = *primary;
  CVM_ASSIGN_OR_RETURN(out.additional_evidence,
                       StringMember(*evidence, "additional_evidence", "attestation: tee-evidence"));
  return out;
}

std::string ChallengeBody(std::string_view nonce) {
  json doc = {{"nonce", nonce}, {"extra-params", ""}};
  return doc.dump();
}

std::string ErrorBody(std::string_view variant, std::string_view detail) {
  json doc = {{"type", std::string(evidence::kKbsErrorTypePrefix) + std::string(variant)},
              {"detail", detail}};
  // The detail can quote a path segment: never throw on bytes that are not UTF-8.
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace cvm::rp
