// Private to evidence/: strict readers for untrusted JSON members. Every error is kInvalidInput
// naming the member by its path ("attestation_report.chip_id[3]").
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"

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
// A JSON array of integers 0..255; `size` 0: any length (at most `max_size`).
Result<Bytes> ByteArray(const nlohmann::json& value, size_t size, std::string_view path,
                        size_t max_size = 1 << 20);
nlohmann::json ToByteArray(ByteSpan bytes);
// Strings in the named encodings; `size` 0: any length.
Result<Bytes> Base64Member(const nlohmann::json& value, std::string_view path);
Result<Bytes> Base64UrlMember(const nlohmann::json& value, std::string_view path);
Result<Bytes> HexMember(const nlohmann::json& value, size_t size, std::string_view path);
std::string Join(std::string_view a, std::string_view b);  // "a.b"

}  // namespace cvm::evidence::internal
