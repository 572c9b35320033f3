// The parts of the HTTP seam that do not need libcurl, so that a program that only sends its
// requests through the helper process (http_helper.h) does not link it.
#include "common/http.h"

#include <algorithm>
#include <cctype>

namespace cvm {

std::string HttpResponse::Header(std::string_view name) const {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [k, v] : headers) {
    if (k == lower) return v;
  }
  return "";
}

Result<std::string> PinnedPublicKeyOption(std::string_view pins) {
  std::string out;
  while (true) {
    size_t semi = pins.find(';');
    std::string_view pin = pins.substr(0, semi);
    // A SHA-256 digest is 32 bytes: 44 characters of padded standard base64.
    bool ok = pin.size() == 44 && pin.substr(43) == "=" &&
              std::all_of(pin.begin(), pin.end() - 1, [](char ch) {
                return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '+' || ch == '/';
              });
    if (!ok) {
      return InvalidInput("pinned public key \"" + std::string(pin) +
                          "\": expected the base64 SHA-256 of a SubjectPublicKeyInfo (44 chars)");
    }
    if (!out.empty()) out += ';';
    out += "sha256//";
    out += pin;
    if (semi == std::string_view::npos) break;
    pins.remove_prefix(semi + 1);
  }
  return out;
}

}  // namespace cvm
