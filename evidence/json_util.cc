#include "evidence/json_util.h"

#include <algorithm>
#include <set>
#include <vector>

#include "common/encoding.h"

namespace cvm::evidence {

Result<nlohmann::json> ParseJsonText(std::string_view text, std::string_view what) {
  using nlohmann::json;
  // The parser callback sees every object's keys in order: a stack of the names seen so far
  // detects duplicates, and the depth argument bounds the nesting (the value is still parsed
  // to the end; the flags turn it into an error afterwards).
  std::vector<std::set<std::string>> keys;
  std::string duplicate;
  bool too_deep = false;
  auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        keys.emplace_back();
        if (depth > kMaxJsonDepth) too_deep = true;
        break;
      case json::parse_event_t::array_start:
        if (depth > kMaxJsonDepth) too_deep = true;
        break;
      case json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case json::parse_event_t::key:
        if (!keys.empty() && parsed.is_string() &&
            !keys.back().insert(parsed.get<std::string>()).second && duplicate.empty()) {
          duplicate = parsed.get<std::string>();
        }
        break;
      default:
        break;
    }
    return !too_deep;
  };
  json value = json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/false);
  if (too_deep) {
    return InvalidInput(std::string(what) + ": JSON nested deeper than " +
                        std::to_string(kMaxJsonDepth) + " levels");
  }
  if (value.is_discarded()) return InvalidInput(std::string(what) + ": not valid JSON");
  if (!duplicate.empty()) {
    return InvalidInput(std::string(what) + ": duplicate member \"" + duplicate + "\"");
  }
  return value;
}

Result<nlohmann::json> RequiredMember(const nlohmann::json& obj, std::string_view member,
                                      std::string_view what) {
  if (!obj.is_object()) return InvalidInput(std::string(what) + ": not a JSON object");
  auto it = obj.find(std::string(member));
  if (it == obj.end()) {
    return InvalidInput(std::string(what) + ": missing member \"" + std::string(member) + "\"");
  }
  return *it;
}

Result<std::string> RequiredString(const nlohmann::json& obj, std::string_view member,
                                   std::string_view what) {
  CVM_ASSIGN_OR_RETURN(nlohmann::json v, RequiredMember(obj, member, what));
  if (!v.is_string()) {
    return InvalidInput(std::string(what) + ": member \"" + std::string(member) +
                        "\" is not a string");
  }
  return v.get<std::string>();
}

Result<std::string> DumpJson(const nlohmann::json& value) {
  try {
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
  } catch (const nlohmann::json::exception& e) {
    return InvalidInput(std::string("JSON text: ") + e.what());
  }
}

}  // namespace cvm::evidence

namespace cvm::evidence::internal {

std::string Join(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  return std::string(a) + "." + std::string(b);
}

Status OnlyMembers(const nlohmann::json& value, std::initializer_list<std::string_view> allowed,
                   std::string_view path) {
  if (!value.is_object()) {
    return InvalidInput(std::string(path.empty() ? "document" : path) + ": not a JSON object");
  }
  for (const auto& [key, unused] : value.items()) {
    (void)unused;
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return InvalidInput(Join(path, key) + ": unknown member");
    }
  }
  return Status::Ok();
}

Result<const nlohmann::json*> Member(const nlohmann::json& obj, std::string_view name,
                                     std::string_view path) {
  auto it = obj.find(std::string(name));
  if (it == obj.end()) return InvalidInput(Join(path, name) + ": missing");
  return &*it;
}

Result<uint64_t> Uint(const nlohmann::json& value, uint64_t max, std::string_view path) {
  if (!value.is_number_unsigned() && !(value.is_number_integer() && value.get<int64_t>() >= 0)) {
    return InvalidInput(std::string(path) + ": not an unsigned integer");
  }
  uint64_t v = value.get<uint64_t>();
  if (v > max) {
    return InvalidInput(std::string(path) + ": " + std::to_string(v) + " exceeds " +
                        std::to_string(max));
  }
  return v;
}

Result<std::string> String(const nlohmann::json& value, std::string_view path) {
  if (!value.is_string()) return InvalidInput(std::string(path) + ": not a string");
  return value.get<std::string>();
}

Result<Bytes> ByteArray(const nlohmann::json& value, size_t size, std::string_view path,
                        size_t max_size) {
  if (!value.is_array()) return InvalidInput(std::string(path) + ": not an array of bytes");
  if (size != 0 && value.size() != size) {
    return InvalidInput(std::string(path) + ": " + std::to_string(value.size()) +
                        " bytes, expected " + std::to_string(size));
  }
  if (value.size() > max_size) {
    return InvalidInput(std::string(path) + ": longer than " + std::to_string(max_size) + " bytes");
  }
  Bytes out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    CVM_ASSIGN_OR_RETURN(uint64_t b,
                         Uint(value[i], 255, std::string(path) + "[" + std::to_string(i) + "]"));
    out.push_back(static_cast<uint8_t>(b));
  }
  return out;
}

nlohmann::json ToByteArray(ByteSpan bytes) {
  nlohmann::json a = nlohmann::json::array();
  for (uint8_t b : bytes) a.push_back(b);
  return a;
}

Result<Bytes> Base64Member(const nlohmann::json& value, std::string_view path) {
  CVM_ASSIGN_OR_RETURN(std::string s, String(value, path));
  return Base64Decode(s).WithContext(path);
}

Result<Bytes> Base64UrlMember(const nlohmann::json& value, std::string_view path) {
  CVM_ASSIGN_OR_RETURN(std::string s, String(value, path));
  return Base64UrlDecode(s).WithContext(path);
}

Result<Bytes> HexMember(const nlohmann::json& value, size_t size, std::string_view path) {
  CVM_ASSIGN_OR_RETURN(std::string s, String(value, path));
  if (size != 0) return HexDecodeFixed(s, size).WithContext(path);
  return HexDecode(s).WithContext(path);
}

}  // namespace cvm::evidence::internal
