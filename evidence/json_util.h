// JSON helpers shared by the evidence library's parsers of untrusted text (internal header).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cvm::evidence {

// The deepest nesting accepted in untrusted JSON (Trustee's messages nest about 6 deep).
inline constexpr int kMaxJsonDepth = 64;

// Parses untrusted JSON text: kInvalidInput "`what`: ..." for a syntax error, a duplicate member
// name in an object (serde refuses those for the protocol's structs), or nesting deeper than
// kMaxJsonDepth.
Result<nlohmann::json> ParseJsonText(std::string_view text, std::string_view what);

// Member accessors for an object `obj` parsed from `what`: kInvalidInput naming the member when
// it is missing or of the wrong type.
Result<std::string> RequiredString(const nlohmann::json& obj, std::string_view member,
                                   std::string_view what);
Result<nlohmann::json> RequiredMember(const nlohmann::json& obj, std::string_view member,
                                      std::string_view what);

// Compact JSON text; kInvalidInput when a string is not valid UTF-8.
Result<std::string> DumpJson(const nlohmann::json& value);

}  // namespace cvm::evidence
