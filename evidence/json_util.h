// JSON helpers shared by the evidence library's parsers of untrusted text (internal header).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"

namespace cvm::evidence {

// The deepest nesting accepted in untrusted JSON (Trustee's messages nest about 6 deep).
inline constexpr int kMaxJsonDepth = 64;

// Parses untrusted JSON text: kInvalidInput "`what`: ..." for a syntax error, a duplicate member
// name in an object (serde refuses those for the protocol's structs), or nesting deeper than
// kMaxJsonDepth.
// `bytes_as_binary`: every non-empty array whose elements are all integers 0..255 comes back as
// one binary value (nlohmann::json::binary), which internal::ByteArray reads like the array,
// instead of one JSON value per byte. Such a document does not serialise back to the same text.
Result<nlohmann::json> ParseJsonText(std::string_view text, std::string_view what,
                                     bool bytes_as_binary = false);

// Member accessors for an object `obj` parsed from `what`: kInvalidInput naming the member when
// it is missing or of the wrong type.
Result<std::string> RequiredString(const nlohmann::json& obj, std::string_view member,
                                   std::string_view what);
Result<nlohmann::json> RequiredMember(const nlohmann::json& obj, std::string_view member,
                                      std::string_view what);

// Compact JSON text; kInvalidInput when a string is not valid UTF-8.
Result<std::string> DumpJson(const nlohmann::json& value);

}  // namespace cvm::evidence

// Strict readers of JSON members for the bundle and Trustee evidence: every error names the
// member by its path ("attestation_report.measurement").
namespace cvm::evidence::internal {

// kInvalidInput unless `value` is an object whose members are all in `allowed`.
Status OnlyMembers(const nlohmann::json& value, std::initializer_list<std::string_view> allowed,
                   std::string_view path);
// The member `name` of object `obj`; kInvalidInput naming `path.name` when absent.
Result<const nlohmann::json*> Member(const nlohmann::json& obj, std::string_view name,
                                     std::string_view path);
// An unsigned integer no larger than `max`.
Result<uint64_t> Uint(const nlohmann::json& value, uint64_t max, std::string_view path);
Result<std::string> String(const nlohmann::json& value, std::string_view path);
// A JSON array of integers 0..255 (or its binary form, see ParseJsonText); `size` 0: any length
// (at most `max_size`).
Result<Bytes> ByteArray(const nlohmann::json& value, size_t size, std::string_view path,
                        size_t max_size = 1 << 20);
nlohmann::json ToByteArray(ByteSpan bytes);
// Strings in the named encodings; `size` 0: any length.
Result<Bytes> Base64Member(const nlohmann::json& value, std::string_view path);
Result<Bytes> Base64UrlMember(const nlohmann::json& value, std::string_view path);
Result<Bytes> HexMember(const nlohmann::json& value, size_t size, std::string_view path);
std::string Join(std::string_view a, std::string_view b);  // "a.b"

}  // namespace cvm::evidence::internal
