// The part of kbs.h the bundle needs: TEE kind names, hash algorithm names, JCS and the
// REPORT_DATA binding (kbs-protocol.md section b). The KBS messages live in kbs.cc.
#include <algorithm>
#include <array>

#include "common/digest.h"
#include "evidence/kbs.h"

namespace cvm::evidence {
namespace {

struct KindName {
  TeeKind kind;
  std::string_view name;
};
constexpr std::array<KindName, 4> kKinds{{{TeeKind::kSnp, "snp"},
                                          {TeeKind::kTdx, "tdx"},
                                          {TeeKind::kAzSnpVtpm, "az-snp-vtpm"},
                                          {TeeKind::kAzTdxVtpm, "az-tdx-vtpm"}}};
// kbs-types `Tee` values this build does not appraise.
constexpr std::array<std::string_view, 9> kOtherKbsKinds{
    "nvidia", "sgx", "cca", "csv", "se", "hygondcu", "tpm", "sample", "sampledevice"};

// Rejects floating-point numbers anywhere in `value` (JCS's number form is not needed here).
Status CheckNoFloats(const nlohmann::json& value) {
  if (value.is_number_float()) {
    return InvalidInput("canonical JSON: floating-point numbers are not supported");
  }
  if (value.is_structured()) {
    for (const auto& item : value) CVM_RETURN_IF_ERROR(CheckNoFloats(item));
  }
  return Status::Ok();
}

}  // namespace

std::string_view TeeKindName(TeeKind kind) {
  for (const auto& k : kKinds) {
    if (k.kind == kind) return k.name;
  }
  return "unknown";
}

Result<TeeKind> ParseTeeKind(std::string_view name) {
  for (const auto& k : kKinds) {
    if (k.name == name) return k.kind;
  }
  if (std::find(kOtherKbsKinds.begin(), kOtherKbsKinds.end(), name) != kOtherKbsKinds.end()) {
    return Unsupported("TEE kind \"" + std::string(name) + "\" is not supported by this build");
  }
  return InvalidInput("\"" + std::string(name) + "\" is not a TEE kind");
}

Result<DigestAlg> ParseKbsHashAlgorithm(std::string_view name) {
  if (name == "sha256") return DigestAlg::kSha256;
  if (name == "sha384") return DigestAlg::kSha384;
  if (name == "sha512") return DigestAlg::kSha512;
  if (name == "sm3") return Unsupported("hash algorithm sm3 is not supported");
  return InvalidInput("\"" + std::string(name) + "\" is not a hash algorithm");
}

std::string_view KbsHashAlgorithmName(DigestAlg alg) { return DigestName(alg); }

Result<std::string> CanonicalJson(const nlohmann::json& value) {
  CVM_RETURN_IF_ERROR(CheckNoFloats(value));
  // nlohmann::json keeps object members in a std::map, so dump() emits them sorted by their
  // UTF-8 bytes, without whitespace, with JCS's string escapes (\b \f \n \r \t, \u00xx for the
  // other control characters, everything else verbatim). RFC 8785 sorts by UTF-16 code units,
  // which differs from UTF-8 byte order only for keys mixing U+E000..U+FFFF with supplementary
  // characters; the protocol's keys are ASCII.
  try {
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
  } catch (const nlohmann::json::exception& e) {
    return InvalidInput(std::string("canonical JSON: ") + e.what());
  }
}

Result<Bytes> RuntimeDataDigest(DigestAlg alg, std::string_view nonce,
                                const nlohmann::json& tee_pubkey,
                                std::string_view additional_evidence,
                                bool include_additional_evidence) {
  nlohmann::json rt = {{"nonce", nonce}, {"tee-pubkey", tee_pubkey}};
  if (include_additional_evidence) rt["additional-evidence"] = additional_evidence;
  CVM_ASSIGN_OR_RETURN(std::string jcs, CanonicalJson(rt));
  return Digest(alg, AsBytes(jcs));
}

Bytes PadReportData(ByteSpan digest) {
  Bytes out(digest.begin(), digest.end());
  out.resize(std::max<size_t>(64, out.size()), 0);
  return out;
}

}  // namespace cvm::evidence
