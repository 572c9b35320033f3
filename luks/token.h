// The `cvm` LUKS2 token: what a volume's header says about where its key comes from.
//
// A LUKS2 header carries tokens, JSON objects that libcryptsetup hands to the plugin of their
// type. Ours (type "cvm", written by `cvmctl luks bind`) is
//
//   {"type": "cvm", "keyslots": ["1"], "resource": "data-disk",
//    "uuid": "0b8e...-...", "timeout": 60}
//
//   keyslots  the keyslots the key opens (decimal strings, libcryptsetup's format), at least one
//   resource  the name of the agent's resource that holds the key ([A-Za-z0-9._-], 1-128 chars)
//   uuid      the volume's LUKS UUID when it was bound (canonical 8-4-4-4-12 hex)
//   timeout   optional: seconds the plugin waits for the agent (1..kMaxTimeoutSeconds)
//
// The header is written by whoever controls the disk, i.e. the host: nothing in the token is
// trusted. It only says which resource to ask the agent for; the relying party, its trust anchors
// and the decision whether this volume may get that key come from the agent's configuration.
// Unknown keys are refused, so a header cannot smuggle options this parser would ignore.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cvm::luks {

inline constexpr char kTokenType[] = "cvm";
// Default and hard maximum of the time the plugin waits for the agent to hand out a key.
inline constexpr int kDefaultTimeoutSeconds = 60;
inline constexpr int kMaxTimeoutSeconds = 600;
// LUKS2 has at most 32 keyslots (0..31).
inline constexpr int kMaxKeyslots = 32;

struct Token {
  std::vector<int> keyslots;  // sorted, unique, each in [0, kMaxKeyslots)
  std::string resource;
  std::string uuid;  // lower case
  int timeout_seconds = kDefaultTimeoutSeconds;
  bool timeout_set = false;  // whether the token names a timeout

  std::chrono::seconds timeout() const { return std::chrono::seconds(timeout_seconds); }
};

// Parses and validates token JSON (untrusted). kInvalidInput naming the first problem: not JSON,
// another type, a missing or malformed field, an unknown key, a timeout outside 1..600.
Result<Token> ParseToken(std::string_view json);

// The token's JSON text (the inverse of ParseToken; the timeout only when timeout_set).
// REQUIRES: a token ParseToken would accept.
std::string TokenJson(const Token& token);

// Whether `name` may name a resource: [A-Za-z0-9._-], 1..128 characters.
bool IsResourceName(std::string_view name);
// The canonical lower-case form of a UUID in 8-4-4-4-12 hex; kInvalidInput otherwise.
Result<std::string> CanonicalUuid(std::string_view uuid);

}  // namespace cvm::luks
