// Init-data: the TOML document a host gives a confidential VM at launch (Confidential Containers'
// "initdata", Trustee's KBS protocol `init-data`), whose digest the hardware evidence carries, so
// a relying party can trust the configuration it holds:
//
//   version = "0.1.0"
//   algorithm = "sha384"            # sha256, sha384 or sha512
//   [data]
//   "aa.toml" = '''...'''           # names -> text, for the guest's components
//
// The digest is `algorithm` over the whole TOML text, byte for byte (not over a canonical form).
// The evidence carries it regularized to the field's size (zero-padded when shorter, its first
// bytes when longer), as Trustee's verifiers compare it: SNP HOST_DATA (32 bytes), TDX MRCONFIGID
// (48 bytes); Azure's vTPM kinds extend it into sha256 PCR 8 from zero, so PCR 8 =
// SHA-256(32 zero bytes || the digest regularized to 32 bytes).
//
// The TOML reader (toml++) is confined to init_data.cc.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/digest.h"
#include "common/status.h"

namespace cvm::evidence {

// Largest init-data body accepted (also the bundle's limit).
inline constexpr size_t kMaxInitDataBytes = 64 << 10;

struct ParsedInitData {
  std::string version;
  DigestAlg algorithm = DigestAlg::kSha384;
  nlohmann::json data = nlohmann::json::object();  // the [data] table: name -> string
  Bytes digest;                                    // `algorithm` over the whole text
};

// Parses init-data TOML and takes its digest. kInvalidInput naming the problem: not TOML (with
// line and column), larger than kMaxInitDataBytes, `version` or `algorithm` missing or not a
// string, an algorithm other than sha256/sha384/sha512, `data` not a table of strings.
Result<ParsedInitData> ParseInitData(std::string_view toml);

// `digest` fitted to a field of `size` bytes as Trustee compares it: zero-padded when shorter,
// its first `size` bytes when longer.
Bytes RegularizeDigest(ByteSpan digest, size_t size);

// The sha256 PCR 8 value of an Azure vTPM VM whose init-data has `digest`: SHA-256(32 zero bytes
// || RegularizeDigest(digest, 32)).
Bytes AzureInitDataPcr8(ByteSpan digest);

}  // namespace cvm::evidence
