#include "evidence/json_util.h"

#include <set>
#include <vector>

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
