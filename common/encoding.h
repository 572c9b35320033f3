// Hex and base64 codecs. Decoders take untrusted text and return kInvalidInput naming the first
// offending character; they never accept partial input.
#pragma once

#include <string>
#include <string_view>

#include "common/bytes.h"

namespace cvm {

// Lowercase hex.
std::string HexEncode(ByteSpan data);
// Accepts upper- and lowercase digits; rejects odd length and any other character (no spaces,
// no "0x" prefix).
Result<Bytes> HexDecode(std::string_view hex);
// HexDecode that also requires exactly `size` bytes.
Result<Bytes> HexDecodeFixed(std::string_view hex, size_t size);

// RFC 4648 section 4, with '=' padding.
std::string Base64Encode(ByteSpan data);
// Requires canonical padding; no whitespace.
Result<Bytes> Base64Decode(std::string_view text);
// RFC 4648 section 5 ('-' and '_'), no padding, as JOSE (RFC 7515) uses it.
std::string Base64UrlEncode(ByteSpan data);
// Accepts input with or without '=' padding.
Result<Bytes> Base64UrlDecode(std::string_view text);

}  // namespace cvm
