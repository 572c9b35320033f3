// Init-data TOML through toml++ (the only file that includes it).
#include "evidence/init_data.h"

#include <openssl/asn1.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cstdio>

namespace cvm::evidence {
namespace {

std::string Where(const toml::source_region& r) {
  return "line " + std::to_string(r.begin.line) + ", column " + std::to_string(r.begin.column);
}

// toml++ 3.3 (Debian 12's) reaches TOML_UNREACHABLE, i.e. undefined behaviour, in
// is_non_ascii_horizontal_whitespace() for these code points wherever its parser tests for
// whitespace (upstream issues #190 and #295, fixed after 3.3; fuzz_evidence_init_data found it).
// Init-data comes from the guest, so such a character is refused before the parser sees it.
bool TomlParserUndefinedOn(unsigned long c) {
  return (c >= 0xA1 && c <= 0x499) || (c >= 0x2C5E && c <= 0x3057 && c != 0x3000) ||
         (c >= 0xFB26 && c <= 0xFEFE);
}

// The document must be UTF-8 (as TOML requires) without those code points. Decoded with
// OpenSSL's UTF8_getc.
Status CheckCodePoints(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  size_t line = 1;
  for (size_t i = 0; i < text.size();) {
    unsigned long c = 0;
    const int n = UTF8_getc(bytes + i, static_cast<int>(std::min<size_t>(text.size() - i, 6)), &c);
    if (n <= 0) {
      return InvalidInput("init-data: not UTF-8 (line " + std::to_string(line) + ", byte " +
                          std::to_string(i) + ")");
    }
    if (TomlParserUndefinedOn(c)) {
      char name[16];
      std::snprintf(name, sizeof name, "U+%04lX", c);
      return InvalidInput("init-data: the character " + std::string(name) + " (line " +
                          std::to_string(line) +
                          ") is not accepted: the TOML parser (toml++ 3.3) is not safe on it");
    }
    if (c == '\n') ++line;
    i += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

Result<ParsedInitData> ParseInitData(std::string_view text) {
  if (text.size() > kMaxInitDataBytes) {
    return InvalidInput("init-data: " + std::to_string(text.size()) + " bytes, more than the " +
                        std::to_string(kMaxInitDataBytes) + " accepted");
  }
  CVM_RETURN_IF_ERROR(CheckCodePoints(text));
  toml::table root;
  try {
    root = toml::parse(text, std::string_view("init-data"));
  } catch (const toml::parse_error& e) {
    return InvalidInput("init-data: not TOML: " + std::string(e.description()) + " (" +
                        Where(e.source()) + ")");
  }

  ParsedInitData out;
  const toml::node* version = root.get("version");
  if (version == nullptr || !version->is_string()) {
    return InvalidInput("init-data: `version` is missing or not a string");
  }
  out.version = version->as_string()->get();

  const toml::node* algorithm = root.get("algorithm");
  if (algorithm == nullptr || !algorithm->is_string()) {
    return InvalidInput("init-data: `algorithm` is missing or not a string");
  }
  const std::string& alg = algorithm->as_string()->get();
  if (alg == "sha256") {
    out.algorithm = DigestAlg::kSha256;
  } else if (alg == "sha384") {
    out.algorithm = DigestAlg::kSha384;
  } else if (alg == "sha512") {
    out.algorithm = DigestAlg::kSha512;
  } else {
    return InvalidInput("init-data: algorithm '" + alg + "' (expected sha256, sha384 or sha512)");
  }

  if (const toml::node* data = root.get("data"); data != nullptr) {
    const toml::table* table = data->as_table();
    if (table == nullptr) return InvalidInput("init-data: `data` is not a table");
    for (const auto& [key, value] : *table) {
      if (!value.is_string()) {
        return InvalidInput("init-data: data." + std::string(key.str()) + " is not a string (" +
                            Where(value.source()) + ")");
      }
      out.data[std::string(key.str())] = value.as_string()->get();
    }
  }
  out.digest = Digest(out.algorithm, AsBytes(text));
  return out;
}

Bytes RegularizeDigest(ByteSpan digest, size_t size) {
  Bytes out(size, 0);
  std::copy_n(digest.begin(), std::min(size, digest.size()), out.begin());
  return out;
}

Bytes AzureInitDataPcr8(ByteSpan digest) {
  Bytes extend(32, 0);
  Bytes d = RegularizeDigest(digest, 32);
  extend.insert(extend.end(), d.begin(), d.end());
  return Sha256(extend);
}

}  // namespace cvm::evidence
