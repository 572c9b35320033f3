#include "evidence/kbs.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "evidence/json_util.h"

namespace cvm::evidence {
namespace {

using nlohmann::json;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// kbs-types `Tee` names (kbs-protocol.md section a) that this project does not handle.
constexpr std::array<std::string_view, 9> kOtherKbsTees = {
    "nvidia", "sgx", "cca", "csv", "se", "hygondcu", "tpm", "sample", "sampledevice"};

// Decodes one UTF-8 sequence of an already validated string (DumpJson validated it) into
// UTF-16 code units, for RFC 8785 section 3.2.3's member order.
std::u16string Utf16(std::string_view s) {
  std::u16string out;
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    uint32_t cp = 0;
    size_t n = 1;
    if (c < 0x80) {
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      cp = c & 0x1F;
      n = 2;
    } else if ((c & 0xF0) == 0xE0) {
      cp = c & 0x0F;
      n = 3;
    } else {
      cp = c & 0x07;
      n = 4;
    }
    for (size_t k = 1; k < n && i + k < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    i += n;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
  }
  return out;
}

Status AppendCanonical(const json& value, std::string& out, int depth) {
  if (depth > kMaxJsonDepth) return InvalidInput("canonical JSON: nested too deeply");
  switch (value.type()) {
    case json::value_t::object: {
      // Validate every key as UTF-8 (DumpJson) and sort by UTF-16 code units.
      std::vector<std::pair<std::u16string, json::const_iterator>> members;
      members.reserve(value.size());
      for (auto it = value.begin(); it != value.end(); ++it) {
        CVM_RETURN_IF_ERROR(DumpJson(json(it.key())).status());
        members.emplace_back(Utf16(it.key()), it);
      }
      std::sort(members.begin(), members.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      out.push_back('{');
      bool first = true;
      for (const auto& [name, it] : members) {
        if (!first) out.push_back(',');
        first = false;
        CVM_ASSIGN_OR_RETURN(std::string key, DumpJson(json(it.key())));
        out += key;
        out.push_back(':');
        CVM_RETURN_IF_ERROR(AppendCanonical(it.value(), out, depth + 1));
      }
      out.push_back('}');
      return Status::Ok();
    }
    case json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& element : value) {
        if (!first) out.push_back(',');
        first = false;
        CVM_RETURN_IF_ERROR(AppendCanonical(element, out, depth + 1));
      }
      out.push_back(']');
      return Status::Ok();
    }
    case json::value_t::number_float:
      // ES6 number formatting of doubles is not needed by the protocol; refusing keeps the
      // hash from depending on a float printer.
      return InvalidInput("canonical JSON: floating-point numbers are not supported");
    case json::value_t::string:
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::boolean:
    case json::value_t::null: {
      // nlohmann's compact dump matches RFC 8785 for these: strings escape only '"', '\\' and
      // control characters (\b \t \n \f \r, else \u00xx lower-case), other characters as UTF-8.
      CVM_ASSIGN_OR_RETURN(std::string text, DumpJson(value));
      out += text;
      return Status::Ok();
    }
    default:
      return InvalidInput("canonical JSON: unsupported value type");
  }
}

Result<json> ParseObject(std::string_view body, std::string_view what,
                         bool bytes_as_binary = false) {
  CVM_ASSIGN_OR_RETURN(json value, ParseJsonText(body, what, bytes_as_binary));
  if (!value.is_object()) return InvalidInput(std::string(what) + ": not a JSON object");
  return value;
}

// The member `name` of `obj` (an object), to move from; kInvalidInput as RequiredMember.
Result<json*> TakeMember(json& obj, std::string_view name, std::string_view what) {
  auto it = obj.find(name);
  if (it == obj.end()) {
    return InvalidInput(std::string(what) + ": missing member \"" + std::string(name) + "\"");
  }
  return &*it;
}

bool IsSessionIdChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string_view TeeKindName(TeeKind kind) {
  switch (kind) {
    case TeeKind::kSnp:
      return "snp";
    case TeeKind::kTdx:
      return "tdx";
    case TeeKind::kAzSnpVtpm:
      return "az-snp-vtpm";
    case TeeKind::kAzTdxVtpm:
      return "az-tdx-vtpm";
  }
  return "unknown";
}

Result<TeeKind> ParseTeeKind(std::string_view name) {
  for (TeeKind kind : {TeeKind::kSnp, TeeKind::kTdx, TeeKind::kAzSnpVtpm, TeeKind::kAzTdxVtpm}) {
    if (name == TeeKindName(kind)) return kind;
  }
  if (std::find(kOtherKbsTees.begin(), kOtherKbsTees.end(), name) != kOtherKbsTees.end()) {
    return Unsupported("TEE kind \"" + std::string(name) + "\" is not supported");
  }
  // Built by appending: GCC 12 -O3 reports a false -Wrestrict on "literal" + std::string.
  std::string msg = "\"";
  msg.append(name).append("\" is not a TEE kind");
  return InvalidInput(msg);
}

Result<DigestAlg> ParseKbsHashAlgorithm(std::string_view name) {
  // The Rust client reads the selected algorithm case-insensitively (rcar_client.rs:66-83).
  std::string lower = Lower(name);
  if (lower == "sha256") return DigestAlg::kSha256;
  if (lower == "sha384") return DigestAlg::kSha384;
  if (lower == "sha512") return DigestAlg::kSha512;
  if (lower == "sm3") return Unsupported("hash algorithm sm3 is not supported");
  std::string msg = "\"";  // appended: see ParseTeeKind
  msg.append(name).append("\" is not a hash algorithm");
  return InvalidInput(msg);
}

std::string_view KbsHashAlgorithmName(DigestAlg alg) { return DigestName(alg); }

json ToJson(const KbsRequest& request) {
  json extra = json::object();
  if (!request.supported_hash_algorithms.empty()) {
    extra["supported-hash-algorithms"] = request.supported_hash_algorithms;
  }
  return json{{"version", request.version}, {"tee", request.tee}, {"extra-params", extra}};
}

Result<KbsRequest> ParseKbsRequest(std::string_view body) {
  constexpr std::string_view kWhat = "KBS request";
  CVM_ASSIGN_OR_RETURN(json obj, ParseObject(body, kWhat));
  KbsRequest request;
  CVM_ASSIGN_OR_RETURN(request.version, RequiredString(obj, "version", kWhat));
  CVM_ASSIGN_OR_RETURN(request.tee, RequiredString(obj, "tee", kWhat));
  // "extra-params" is a serde_json::Value in kbs-types: any JSON value, but present.
  CVM_ASSIGN_OR_RETURN(json extra, RequiredMember(obj, "extra-params", kWhat));
  if (extra.is_object()) {
    auto it = extra.find("supported-hash-algorithms");
    if (it != extra.end()) {
      if (!it->is_array()) {
        return InvalidInput("KBS request: extra-params.supported-hash-algorithms is not an array");
      }
      for (const auto& name : *it) {
        if (!name.is_string()) {
          return InvalidInput(
              "KBS request: extra-params.supported-hash-algorithms holds a non-string");
        }
        request.supported_hash_algorithms.push_back(name.get<std::string>());
      }
    }
  }
  return request;
}

json ToJson(const KbsChallenge& challenge) {
  json out{{"nonce", challenge.nonce}};
  if (challenge.selected_hash) {
    out["extra-params"] = {
        {"selected-hash-algorithm", KbsHashAlgorithmName(*challenge.selected_hash)}};
  } else {
    out["extra-params"] = "";  // Trustee's builtin AS answers the empty string (backend.rs:80)
  }
  return out;
}

Result<KbsChallenge> ParseKbsChallenge(std::string_view body) {
  constexpr std::string_view kWhat = "KBS challenge";
  CVM_ASSIGN_OR_RETURN(json obj, ParseObject(body, kWhat));
  KbsChallenge challenge;
  CVM_ASSIGN_OR_RETURN(challenge.nonce, RequiredString(obj, "nonce", kWhat));
  if (challenge.nonce.empty()) return InvalidInput("KBS challenge: empty nonce");
  // Required like in the Rust client (serde); "" or an object without the member: sha384.
  CVM_ASSIGN_OR_RETURN(json extra, RequiredMember(obj, "extra-params", kWhat));
  if (extra.is_object()) {
    auto it = extra.find("selected-hash-algorithm");
    if (it != extra.end()) {
      if (!it->is_string()) {
        return InvalidInput("KBS challenge: extra-params.selected-hash-algorithm is not a string");
      }
      CVM_ASSIGN_OR_RETURN(
          DigestAlg alg,
          ParseKbsHashAlgorithm(it->get<std::string>()).WithContext("KBS challenge"));
      challenge.selected_hash = alg;
    }
  } else if (!extra.is_string() && !extra.is_null()) {
    return InvalidInput("KBS challenge: extra-params is neither a string nor an object");
  }
  return challenge;
}

json ToJson(const KbsAttestation& attestation) {
  json out;
  if (attestation.init_data) {
    out["init-data"] = {{"format", attestation.init_data->format},
                        {"body", attestation.init_data->body}};
  } else {
    out["init-data"] = nullptr;  // what guest-components sends
  }
  out["runtime-data"] = {{"nonce", attestation.nonce}, {"tee-pubkey", attestation.tee_pubkey}};
  out["tee-evidence"] = {{"primary_evidence", attestation.primary_evidence},
                         {"additional_evidence", attestation.additional_evidence}};
  return out;
}

Result<KbsAttestation> ParseKbsAttestation(std::string_view body, bool bytes_as_binary) {
  constexpr std::string_view kWhat = "KBS attestation";
  CVM_ASSIGN_OR_RETURN(json obj, ParseObject(body, kWhat, bytes_as_binary));
  KbsAttestation out;
  auto init = obj.find("init-data");
  if (init != obj.end() && !init->is_null()) {
    constexpr std::string_view kInit = "KBS attestation: init-data";
    if (!init->is_object()) return InvalidInput("KBS attestation: init-data is not an object");
    InitData data;
    CVM_ASSIGN_OR_RETURN(data.format, RequiredString(*init, "format", kInit));
    CVM_ASSIGN_OR_RETURN(data.body, RequiredString(*init, "body", kInit));
    out.init_data = std::move(data);
  }
  // Members are moved out of the parsed document, not copied: the evidence holds certificates
  // as arrays of numbers, thousands of JSON values.
  CVM_ASSIGN_OR_RETURN(json * runtime, TakeMember(obj, "runtime-data", kWhat));
  constexpr std::string_view kRuntime = "KBS attestation: runtime-data";
  if (!runtime->is_object()) return InvalidInput("KBS attestation: runtime-data is not an object");
  CVM_ASSIGN_OR_RETURN(out.nonce, RequiredString(*runtime, "nonce", kRuntime));
  CVM_ASSIGN_OR_RETURN(json * tee_pubkey, TakeMember(*runtime, "tee-pubkey", kRuntime));
  if (!tee_pubkey->is_object()) {
    return InvalidInput("KBS attestation: runtime-data.tee-pubkey is not an object");
  }
  out.tee_pubkey = std::move(*tee_pubkey);
  // Inside tee-evidence the names are snake_case (kbs-types CompositeEvidence has no rename).
  CVM_ASSIGN_OR_RETURN(json * evidence, TakeMember(obj, "tee-evidence", kWhat));
  constexpr std::string_view kEvidence = "KBS attestation: tee-evidence";
  if (!evidence->is_object()) {
    return InvalidInput("KBS attestation: tee-evidence is not an object");
  }
  CVM_ASSIGN_OR_RETURN(json * primary, TakeMember(*evidence, "primary_evidence", kEvidence));
  out.primary_evidence = std::move(*primary);
  CVM_ASSIGN_OR_RETURN(out.additional_evidence,
                       RequiredString(*evidence, "additional_evidence", kEvidence));
  return out;
}

std::string KbsError::Variant() const {
  if (type.starts_with(kKbsErrorTypePrefix)) return type.substr(kKbsErrorTypePrefix.size());
  return type;
}

json ToJson(const KbsError& error) { return json{{"type", error.type}, {"detail", error.detail}}; }

Result<KbsError> ParseKbsError(std::string_view body) {
  constexpr std::string_view kWhat = "KBS error body";
  CVM_ASSIGN_OR_RETURN(json obj, ParseObject(body, kWhat));
  KbsError error;
  CVM_ASSIGN_OR_RETURN(error.type, RequiredString(obj, "type", kWhat));
  CVM_ASSIGN_OR_RETURN(error.detail, RequiredString(obj, "detail", kWhat));
  return error;
}

KbsError MakeKbsError(std::string_view variant, std::string_view detail) {
  return KbsError{std::string(kKbsErrorTypePrefix) + std::string(variant), std::string(detail)};
}

json TokenResponseJson(std::string_view token) { return json{{"token", token}}; }

Result<std::string> ParseKbsTokenResponse(std::string_view body) {
  constexpr std::string_view kWhat = "KBS token response";
  CVM_ASSIGN_OR_RETURN(json obj, ParseObject(body, kWhat));
  CVM_ASSIGN_OR_RETURN(std::string token, RequiredString(obj, "token", kWhat));
  if (token.empty()) return InvalidInput("KBS token response: empty token");
  return token;
}

Result<std::optional<std::string>> SessionIdFromSetCookie(std::string_view set_cookie) {
  // "name=value; attr; attr" (RFC 6265 section 5.2): the pair is everything before the first ';'.
  std::string_view pair = set_cookie.substr(0, set_cookie.find(';'));
  size_t eq = pair.find('=');
  if (eq == std::string_view::npos) return std::optional<std::string>();
  if (Trim(pair.substr(0, eq)) != kKbsSessionCookie) return std::optional<std::string>();
  std::string_view value = Trim(pair.substr(eq + 1));
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  if (value.empty() || value.size() > 256 ||
      !std::all_of(value.begin(), value.end(), IsSessionIdChar)) {
    return InvalidInput("Set-Cookie: malformed kbs-session-id value");
  }
  return std::optional<std::string>(std::string(value));
}

std::optional<std::string> SessionIdFromCookieHeader(std::string_view cookie) {
  while (!cookie.empty()) {
    size_t semi = cookie.find(';');
    std::string_view pair = Trim(cookie.substr(0, semi));
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && Trim(pair.substr(0, eq)) == kKbsSessionCookie) {
      return std::string(Trim(pair.substr(eq + 1)));
    }
    if (semi == std::string_view::npos) break;
    cookie.remove_prefix(semi + 1);
  }
  return std::nullopt;
}

Status ValidateResourcePath(std::string_view path) {
  // Trustee: plugins/implementations/resource/backend.rs:57.
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    segments.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (segments.size() != 3) {
    return InvalidInput("resource path \"" + std::string(path) +
                        "\": expected <repo>/<type>/<tag> (three segments)");
  }
  auto word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
  };
  for (std::string_view seg : segments) {
    bool ok = !seg.empty() && word(seg.front()) &&
              std::all_of(seg.begin(), seg.end(), [&](char c) { return word(c) || c == '.'; });
    if (!ok) {
      return InvalidInput("resource path \"" + std::string(path) + "\": segment \"" +
                          std::string(seg) + "\" must match [a-zA-Z0-9_-][a-zA-Z0-9_.-]*");
    }
  }
  return Status::Ok();
}

Result<std::string> CanonicalJson(const json& value) {
  std::string out;
  CVM_RETURN_IF_ERROR(AppendCanonical(value, out, 0));
  return out;
}

Result<Bytes> RuntimeDataDigest(DigestAlg alg, std::string_view nonce, const json& tee_pubkey,
                                std::string_view additional_evidence,
                                bool include_additional_evidence) {
  json rt{{"nonce", nonce}, {"tee-pubkey", tee_pubkey}};
  if (include_additional_evidence) rt["additional-evidence"] = additional_evidence;
  CVM_ASSIGN_OR_RETURN(std::string text, CanonicalJson(rt));
  return Digest(alg, AsBytes(text));
}

Bytes PadReportData(ByteSpan digest) {
  Bytes out(64, 0);
  std::copy_n(digest.begin(), std::min<size_t>(digest.size(), out.size()), out.begin());
  return out;
}

Status ValidateVmResourceTypeTag(std::string_view type_tag) {
  // The same segment rule, checked through a stand-in repository segment.
  Status s = ValidateResourcePath("vm/" + std::string(type_tag));
  if (!s.ok()) {
    return InvalidInput("per-VM resource \"" + std::string(type_tag).substr(0, 200) +
                        "\": expected <type>/<tag>, each segment [a-zA-Z0-9_-][a-zA-Z0-9_.-]*");
  }
  return Status::Ok();
}

Result<std::optional<std::string>> VmResourceTypeTag(std::string_view path) {
  std::string prefix = std::string(kVmIdPlaceholder) + "/";
  if (path.substr(0, prefix.size()) != prefix) return std::optional<std::string>();
  std::string_view rest = path.substr(prefix.size());
  CVM_RETURN_IF_ERROR(ValidateVmResourceTypeTag(rest));
  return std::optional<std::string>(std::string(rest));
}

}  // namespace cvm::evidence
