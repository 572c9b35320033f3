#include "luks/header.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

namespace cvm::luks {

namespace {

using nlohmann::json;

// The cipher as shown in messages: bounded and printable, since it comes from the header.
std::string Shown(std::string_view s) {
  std::string out(s.substr(0, 80));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

// Checks one cipher; appends a problem to `problems` when it is refused.
void CheckCipher(const std::string& where, const json& obj, const char* field,
                 const HeaderPolicy& policy, std::set<std::string>* ciphers,
                 std::vector<std::string>* problems) {
  if (!obj.is_object() || !obj.contains(field) || !obj[field].is_string()) {
    problems->push_back(where + " has no cipher");
    return;
  }
  const std::string& cipher = obj[field].get_ref<const std::string&>();
  ciphers->insert(cipher);
  if (IsNullCipher(cipher)) {
    problems->push_back(where + " uses " + Shown(cipher) + ": it does not encrypt");
    return;
  }
  const auto& allow = policy.allowed_ciphers;
  if (!allow.empty() && std::find(allow.begin(), allow.end(), cipher) == allow.end()) {
    problems->push_back(where + " uses " + Shown(cipher) + ", which is not in the allowed ciphers");
  }
}

Result<HeaderFacts> Check(std::string_view metadata_json, std::string_view header_uuid,
                          const std::vector<int>& keyslots, std::string_view recorded_uuid,
                          const HeaderPolicy& policy);

}  // namespace

bool IsNullCipher(std::string_view cipher) {
  std::string lower;
  for (char c : cipher)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return lower.find("cipher_null") != std::string::npos || lower == "null" ||
         lower.starts_with("null-") || lower.empty();
}

Result<HeaderFacts> CheckHeaderKeyslots(std::string_view metadata_json,
                                        std::string_view header_uuid,
                                        const std::vector<int>& keyslots,
                                        const HeaderPolicy& policy) {
  return Check(metadata_json, header_uuid, keyslots, "", policy);
}

Result<HeaderFacts> CheckHeader(std::string_view metadata_json, std::string_view header_uuid,
                                const Token& token, const HeaderPolicy& policy) {
  return Check(metadata_json, header_uuid, token.keyslots, token.uuid, policy);
}

namespace {

Result<HeaderFacts> Check(std::string_view metadata_json, std::string_view header_uuid,
                          const std::vector<int>& keyslots, std::string_view recorded_uuid,
                          const HeaderPolicy& policy) {
  json meta = json::parse(metadata_json.begin(), metadata_json.end(), nullptr, false);
  if (meta.is_discarded() || !meta.is_object()) {
    return InvalidInput("LUKS2 header: the metadata is not a JSON object");
  }
  if (!meta.contains("keyslots") || !meta["keyslots"].is_object()) {
    return InvalidInput("LUKS2 header: the metadata has no keyslots object");
  }
  if (!meta.contains("segments") || !meta["segments"].is_object()) {
    return InvalidInput("LUKS2 header: the metadata has no segments object");
  }
  auto uuid = CanonicalUuid(header_uuid);
  if (!uuid.ok()) return uuid.status().WithContext("LUKS2 header: UUID");

  std::vector<std::string> problems;
  std::set<std::string> ciphers;
  const json& slots = meta["keyslots"];
  for (int k : keyslots) {
    std::string id = std::to_string(k);
    std::string where = "keyslot " + id;
    auto it = slots.find(id);
    if (it == slots.end()) {
      problems.push_back(where + " does not exist");
      continue;
    }
    if (!it->is_object() || !it->contains("type") || !(*it)["type"].is_string() ||
        (*it)["type"] != "luks2") {
      problems.push_back(where + " is not a luks2 keyslot");
      continue;
    }
    CheckCipher(where, it->contains("area") ? (*it)["area"] : json(), "encryption", policy,
                &ciphers, &problems);
  }
  const json& segments = meta["segments"];
  if (segments.empty()) problems.push_back("the header has no data segment");
  for (const auto& [id, seg] : segments.items()) {
    std::string where = "segment " + Shown(id);
    if (!seg.is_object() || !seg.contains("type") || !seg["type"].is_string()) {
      problems.push_back(where + " has no type");
      continue;
    }
    if (seg["type"] != "crypt") {
      problems.push_back(where + " is of type " + Shown(seg["type"].get<std::string>()) +
                         ", not crypt: it does not encrypt");
      continue;
    }
    CheckCipher(where, seg, "encryption", policy, &ciphers, &problems);
  }
  if (!recorded_uuid.empty() && *uuid != recorded_uuid) {
    problems.push_back("the volume's UUID " + *uuid + " differs from the UUID " +
                       std::string(recorded_uuid) +
                       " recorded in the cvm token at bind time (was the token copied from "
                       "another volume?)");
  }
  if (!problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
    return Rejected("LUKS2 header refused: " + all);
  }
  return HeaderFacts{*uuid, std::vector<std::string>(ciphers.begin(), ciphers.end())};
}

}  // namespace

}  // namespace cvm::luks
