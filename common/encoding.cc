#include "common/encoding.h"

#include <openssl/evp.h>

namespace cvm {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

}  // namespace

std::string HexEncode(ByteSpan data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (uint8_t b : data) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

Result<Bytes> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return InvalidInput("hex: odd number of digits (" + std::to_string(hex.size()) + ")");
  }
  Bytes out(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexValue(hex[i]);
    int lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      size_t bad = hi < 0 ? i : i + 1;
      return InvalidInput("hex: invalid character at position " + std::to_string(bad));
    }
    out[i / 2] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return out;
}

Result<Bytes> HexDecodeFixed(std::string_view hex, size_t size) {
  CVM_ASSIGN_OR_RETURN(Bytes out, HexDecode(hex));
  if (out.size() != size) {
    return InvalidInput("hex: expected " + std::to_string(size) + " bytes, got " +
                        std::to_string(out.size()));
  }
  return out;
}

std::string Base64Encode(ByteSpan data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(),
                          static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<Bytes> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return InvalidInput("base64: length " + std::to_string(text.size()) +
                        " is not a multiple of 4");
  }
  // EVP_DecodeBlock skips leading/trailing whitespace and accepts '=' anywhere at the end; check
  // the alphabet and the padding ourselves so only canonical input is accepted.
  size_t pad = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '=') {
      if (i + 2 < text.size()) {
        return InvalidInput("base64: padding before the end at position " + std::to_string(i));
      }
      ++pad;
    } else if (pad > 0 || !IsBase64Char(c)) {
      return InvalidInput("base64: invalid character at position " + std::to_string(i));
    }
  }
  // The bits that padding leaves unused must be zero, so every byte string has one encoding.
  if ((pad == 1 && (Base64Value(text[text.size() - 2]) & 0x3) != 0) ||
      (pad == 2 && (Base64Value(text[text.size() - 3]) & 0xf) != 0)) {
    return InvalidInput("base64: non-zero bits before the padding (non-canonical encoding)");
  }
  Bytes out(3 * (text.size() / 4));
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return InvalidInput("base64: malformed input");
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string Base64UrlEncode(ByteSpan data) {
  std::string out = Base64Encode(data);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

Result<Bytes> Base64UrlDecode(std::string_view text) {
  std::string std_text;
  std_text.reserve(text.size() + 3);
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+' || c == '/') {
      return InvalidInput("base64url: invalid character at position " + std::to_string(i));
    }
    std_text.push_back(c == '-' ? '+' : c == '_' ? '/' : c);
  }
  if (std_text.size() % 4 == 1) return InvalidInput("base64url: impossible length");
  while (std_text.size() % 4 != 0) std_text.push_back('=');
  auto out = Base64Decode(std_text);
  if (!out.ok()) return InvalidInput("base64url" + out.status().message().substr(6));
  return out;
}

}  // namespace cvm
