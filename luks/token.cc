#include "luks/token.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

namespace cvm::luks {

namespace {

using nlohmann::json;

Result<int> ParseKeyslot(const json& v) {
  if (!v.is_string()) return InvalidInput("keyslots: every entry must be a string such as \"1\"");
  const std::string& s = v.get_ref<const std::string&>();
  if (s.empty() || s.size() > 2 ||
      !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      (s.size() == 2 && s[0] == '0')) {
    return InvalidInput("keyslots: '" + s + "' is not a keyslot number");
  }
  int n = std::stoi(s);
  if (n >= kMaxKeyslots) {
    return InvalidInput("keyslots: " + s + " is past the last LUKS2 keyslot (" +
                        std::to_string(kMaxKeyslots - 1) + ")");
  }
  return n;
}

}  // namespace

bool IsResourceName(std::string_view name) {
  return !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

Result<std::string> CanonicalUuid(std::string_view uuid) {
  static constexpr size_t kDashes[] = {8, 13, 18, 23};
  std::string out;
  bool ok = uuid.size() == 36;
  for (size_t i = 0; ok && i < uuid.size(); ++i) {
    char c = uuid[i];
    bool dash = std::find(std::begin(kDashes), std::end(kDashes), i) != std::end(kDashes);
    if (dash ? c != '-' : !std::isxdigit(static_cast<unsigned char>(c))) ok = false;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (!ok) {
    std::string shown(uuid.substr(0, 64));
    for (char& c : shown) {
      if (!std::isprint(static_cast<unsigned char>(c))) c = '?';
    }
    return InvalidInput("'" + shown + "' is not a UUID (8-4-4-4-12 hex digits)");
  }
  return out;
}

Result<Token> ParseToken(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidInput("cvm token: not valid JSON");
  if (!j.is_object()) return InvalidInput("cvm token: not a JSON object");
  Token t;
  bool have_type = false, have_keyslots = false, have_resource = false, have_uuid = false;
  for (const auto& [key, v] : j.items()) {
    if (key == "type") {
      if (!v.is_string() || v.get_ref<const std::string&>() != kTokenType) {
        return InvalidInput("cvm token: type is not \"cvm\"");
      }
      have_type = true;
    } else if (key == "keyslots") {
      if (!v.is_array() || v.empty()) {
        return InvalidInput("cvm token: keyslots must be a non-empty array");
      }
      if (v.size() > static_cast<size_t>(kMaxKeyslots)) {
        return InvalidInput("cvm token: keyslots names more than " + std::to_string(kMaxKeyslots) +
                            " keyslots");
      }
      std::set<int> seen;
      for (const auto& e : v) {
        auto n = ParseKeyslot(e);
        if (!n.ok()) return n.status().WithContext("cvm token");
        if (!seen.insert(*n).second) {
          return InvalidInput("cvm token: keyslots: keyslot " + std::to_string(*n) +
                              " is listed twice");
        }
      }
      t.keyslots.assign(seen.begin(), seen.end());
      have_keyslots = true;
    } else if (key == "resource") {
      if (!v.is_string() || !IsResourceName(v.get_ref<const std::string&>())) {
        return InvalidInput(
            "cvm token: resource must be a resource name ([A-Za-z0-9._-], 1 to 128 characters)");
      }
      t.resource = v.get<std::string>();
      have_resource = true;
    } else if (key == "uuid") {
      if (!v.is_string()) return InvalidInput("cvm token: uuid must be a string");
      auto u = CanonicalUuid(v.get_ref<const std::string&>());
      if (!u.ok()) return u.status().WithContext("cvm token: uuid");
      t.uuid = *u;
      have_uuid = true;
    } else if (key == "timeout") {
      if (!v.is_number_integer()) {
        return InvalidInput("cvm token: timeout must be a whole number of seconds");
      }
      // Compared in the type JSON gave it, so a huge unsigned value cannot wrap into range.
      bool in_range = v.is_number_unsigned()
                          ? v.get<uint64_t>() >= 1 &&
                                v.get<uint64_t>() <= static_cast<uint64_t>(kMaxTimeoutSeconds)
                          : v.get<int64_t>() >= 1 && v.get<int64_t>() <= kMaxTimeoutSeconds;
      if (!in_range) {
        return InvalidInput("cvm token: timeout " + v.dump() + " s is outside 1.." +
                            std::to_string(kMaxTimeoutSeconds) + " s");
      }
      int64_t s = v.get<int64_t>();
      t.timeout_seconds = static_cast<int>(s);
      t.timeout_set = true;
    } else {
      return InvalidInput("cvm token: unknown key '" + key.substr(0, 64) + "'");
    }
  }
  if (!have_type) return InvalidInput("cvm token: type is missing");
  if (!have_keyslots) return InvalidInput("cvm token: keyslots is missing");
  if (!have_resource) return InvalidInput("cvm token: resource is missing");
  if (!have_uuid)
    return InvalidInput("cvm token: uuid (the volume's UUID at bind time) is missing");
  return t;
}

std::string TokenJson(const Token& token) {
  json slots = json::array();
  for (int k : token.keyslots) slots.push_back(std::to_string(k));
  json j = {{"type", kTokenType},
            {"keyslots", slots},
            {"resource", token.resource},
            {"uuid", token.uuid}};
  if (token.timeout_set) j["timeout"] = token.timeout_seconds;
  return j.dump();
}

}  // namespace cvm::luks
