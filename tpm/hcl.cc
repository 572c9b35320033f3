#include "tpm/hcl.h"

#include <nlohmann/json.hpp>
#include <thread>

#include "common/encoding.h"
#include "common/keys.h"
#include "tpm/tpm.h"

namespace cvm::tpm {
namespace {

constexpr uint32_t kHclSignature = 0x414C4348;  // "HCLA"
constexpr uint32_t kMaxHclVersion = 2;
// The fixed part of IgvmRequestData (five u32 fields) before its variable data.
constexpr uint32_t kIgvmFixedSize = kHclClaimsOffset - kHclIgvmOffset;
constexpr size_t kSnpReportDataOffset = 0x50;
constexpr size_t kTdReportDataOffset = 0x80;
constexpr size_t kReportDataSize = 64;

Result<ossl::PKey> KeyFromJwk(const nlohmann::json& jwk, const std::string& kid) {
  auto field = [&](const char* name) -> Result<Bytes> {
    auto it = jwk.find(name);
    if (it == jwk.end() || !it->is_string()) {
      return InvalidInput("runtime claims: key " + kid + " has no \"" + name + "\"");
    }
    auto b = Base64UrlDecode(it->get<std::string>());
    if (!b.ok()) return b.status().WithContext("runtime claims: key " + kid + " \"" + name + "\"");
    return b;
  };
  auto kty = jwk.find("kty");
  if (kty == jwk.end() || !kty->is_string()) {
    return InvalidInput("runtime claims: key " + kid + " has no \"kty\"");
  }
  if (*kty == "RSA") {
    CVM_ASSIGN_OR_RETURN(Bytes n, field("n"));
    CVM_ASSIGN_OR_RETURN(Bytes e, field("e"));
    auto key = RsaPublicKeyFromNE(n, e);
    if (!key.ok()) return InvalidInput("runtime claims: key " + kid + " is not a usable RSA key");
    return key;
  }
  if (*kty == "EC") {
    auto crv = jwk.find("crv");
    Curve curve;
    if (crv != jwk.end() && *crv == "P-256") {
      curve = Curve::kP256;
    } else if (crv != jwk.end() && *crv == "P-384") {
      curve = Curve::kP384;
    } else {
      return Unsupported("runtime claims: key " + kid + " is on an unsupported curve");
    }
    CVM_ASSIGN_OR_RETURN(Bytes x, field("x"));
    CVM_ASSIGN_OR_RETURN(Bytes y, field("y"));
    auto key = EcPublicKeyFromXY(curve, x, y);
    if (!key.ok()) return InvalidInput("runtime claims: key " + kid + " is not a usable EC key");
    return key;
  }
  return Unsupported("runtime claims: key " + kid + " has unsupported kty");
}

Status ParseClaims(HclReport& r) {
  nlohmann::json doc =
      nlohmann::json::parse(r.runtime_claims.begin(), r.runtime_claims.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidInput("HCL report: runtime claims are not a JSON object");
  }
  auto keys = doc.find("keys");
  if (keys == doc.end() || !keys->is_array()) {
    return InvalidInput("HCL report: runtime claims have no \"keys\" array");
  }
  for (const auto& jwk : *keys) {
    if (!jwk.is_object()) return InvalidInput("HCL report: runtime claims: a key is not an object");
    auto kid = jwk.find("kid");
    if (kid == jwk.end() || !kid->is_string()) continue;
    if (*kid == "HCLAkPub") {
      if (r.ak_pub) return InvalidInput("HCL report: runtime claims name HCLAkPub twice");
      CVM_ASSIGN_OR_RETURN(r.ak_pub, KeyFromJwk(jwk, "HCLAkPub"));
    } else if (*kid == "HCLEkPub") {
      if (r.ek_pub) return InvalidInput("HCL report: runtime claims name HCLEkPub twice");
      CVM_ASSIGN_OR_RETURN(r.ek_pub, KeyFromJwk(jwk, "HCLEkPub"));
    }
  }
  if (!r.ak_pub) return InvalidInput("HCL report: runtime claims have no HCLAkPub key");
  auto user = doc.find("user-data");
  if (user != doc.end()) {
    if (!user->is_string()) return InvalidInput("HCL report: \"user-data\" is not a string");
    auto b = HexDecode(user->get<std::string>());
    if (!b.ok()) return b.status().WithContext("HCL report: \"user-data\"");
    r.user_data = std::move(*b);
  }
  return Status::Ok();
}

}  // namespace

const char* HclReportTypeName(HclReportType type) {
  return type == HclReportType::kSnp ? "SNP" : "TDX";
}

Result<HclReport> ParseHclReport(ByteSpan data) {
  ByteReader r(data, "HCL report");
  HclReport out;
  CVM_ASSIGN_OR_RETURN(uint32_t signature, r.U32("signature"));
  if (signature != kHclSignature) return r.Error("signature is not \"HCLA\"");
  CVM_ASSIGN_OR_RETURN(out.version, r.U32("version"));
  if (out.version == 0 || out.version > kMaxHclVersion) {
    return Unsupported("HCL report: version " + std::to_string(out.version) +
                       " is not supported (1 to " + std::to_string(kMaxHclVersion) + ")");
  }
  CVM_ASSIGN_OR_RETURN(out.report_size, r.U32("report_size"));
  CVM_ASSIGN_OR_RETURN(out.request_type, r.U32("request_type"));
  CVM_ASSIGN_OR_RETURN(out.status, r.U32("status"));
  if (out.report_size > data.size()) {
    return InvalidInput("HCL report: report_size " + std::to_string(out.report_size) +
                        " is larger than the " + std::to_string(data.size()) + " bytes given");
  }
  CVM_RETURN_IF_ERROR(r.Skip(kHclIgvmOffset - r.offset(), "reserved and hardware report"));
  CVM_ASSIGN_OR_RETURN(out.igvm_data_size, r.U32("IgvmRequestData.data_size"));
  CVM_ASSIGN_OR_RETURN(out.igvm_version, r.U32("IgvmRequestData.version"));
  CVM_ASSIGN_OR_RETURN(uint32_t report_type, r.U32("IgvmRequestData.report_type"));
  size_t hw_size;
  if (report_type == static_cast<uint32_t>(HclReportType::kSnp)) {
    out.type = HclReportType::kSnp;
    hw_size = kSnpReportSize;
  } else if (report_type == static_cast<uint32_t>(HclReportType::kTdx)) {
    out.type = HclReportType::kTdx;
    hw_size = kTdReportSize;
  } else {
    return Unsupported("HCL report: report_type " + std::to_string(report_type) +
                       " is neither SNP (2) nor TDX (4)");
  }
  CVM_ASSIGN_OR_RETURN(uint32_t hash_type, r.U32("IgvmRequestData.report_data_hash_type"));
  switch (hash_type) {
    case 1:
      out.claims_hash = DigestAlg::kSha256;
      break;
    case 2:
      out.claims_hash = DigestAlg::kSha384;
      break;
    case 3:
      out.claims_hash = DigestAlg::kSha512;
      break;
    default:
      return Unsupported("HCL report: report_data_hash_type " + std::to_string(hash_type) +
                         " is not SHA-256 (1), SHA-384 (2) or SHA-512 (3)");
  }
  CVM_ASSIGN_OR_RETURN(uint32_t claims_size, r.U32("IgvmRequestData.variable_data_size"));
  CVM_ASSIGN_OR_RETURN(ByteSpan claims, r.Take(claims_size, "runtime claims"));
  // data_size covers the whole IgvmRequestData: its five u32 fields and the variable data.
  if (uint64_t{out.igvm_data_size} != kIgvmFixedSize + uint64_t{claims_size}) {
    return InvalidInput("HCL report: IgvmRequestData.data_size " +
                        std::to_string(out.igvm_data_size) + " does not match its " +
                        std::to_string(kIgvmFixedSize) + " fixed bytes plus variable_data_size " +
                        std::to_string(claims_size));
  }
  if (kHclClaimsOffset + claims.size() > out.report_size) {
    return InvalidInput("HCL report: the runtime claims end after report_size");
  }
  out.runtime_claims = ToBytes(claims);
  out.hardware_report = ToBytes(data.subspan(kHclHardwareReportOffset, hw_size));
  CVM_RETURN_IF_ERROR(ParseClaims(out));
  return out;
}

ByteSpan HclReportData(const HclReport& report) {
  size_t offset = report.type == HclReportType::kSnp ? kSnpReportDataOffset : kTdReportDataOffset;
  return ByteSpan(report.hardware_report).subspan(offset, kReportDataSize);
}

Status VerifyHclBinding(const HclReport& report) {
  Bytes digest = Digest(report.claims_hash, report.runtime_claims);
  ByteSpan report_data = HclReportData(report);
  if (!std::equal(digest.begin(), digest.end(), report_data.begin())) {
    return Rejected(std::string("HCL report: REPORT_DATA does not start with ") +
                    std::string(DigestName(report.claims_hash)) +
                    "(runtime claims): the claims (and the AK in them) are not the ones the " +
                    HclReportTypeName(report.type) + " report vouches for");
  }
  return Status::Ok();
}

Result<AzureTpmQuote> ParseAzureTpmQuote(std::string_view json) {
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidInput("Azure TPM quote: not a JSON object");
  }
  auto hex = [&](const char* name) -> Result<Bytes> {
    auto it = doc.find(name);
    if (it == doc.end() || !it->is_string()) {
      return InvalidInput(std::string("Azure TPM quote: no \"") + name + "\" string");
    }
    auto b = HexDecode(it->get<std::string>());
    if (!b.ok()) return b.status().WithContext(std::string("Azure TPM quote: \"") + name + "\"");
    return b;
  };
  AzureTpmQuote q;
  CVM_ASSIGN_OR_RETURN(q.attest, hex("message"));
  q.signature.scheme = SigScheme::kRsaSsa;
  q.signature.hash = DigestAlg::kSha256;
  CVM_ASSIGN_OR_RETURN(q.signature.sig, hex("signature"));
  auto pcrs = doc.find("pcrs");
  if (pcrs == doc.end() || !pcrs->is_array() || pcrs->size() > kMaxPcr + 1) {
    return InvalidInput("Azure TPM quote: \"pcrs\" is not an array of at most 24 digests");
  }
  for (size_t i = 0; i < pcrs->size(); ++i) {
    const auto& v = (*pcrs)[i];
    if (!v.is_string()) return InvalidInput("Azure TPM quote: pcrs[" + std::to_string(i) + "]");
    auto d = HexDecodeFixed(v.get<std::string>(), 32);
    if (!d.ok()) return d.status().WithContext("Azure TPM quote: pcrs[" + std::to_string(i) + "]");
    q.pcrs[DigestAlg::kSha256][static_cast<uint32_t>(i)] = std::move(*d);
  }
  return q;
}

Result<Attest> VerifyAzureTpmQuote(const HclReport& report, const AzureTpmQuote& quote,
                                   std::optional<ByteSpan> nonce) {
  auto r = nonce
               ? VerifyQuote(report.ak_pub.get(), quote.attest, quote.signature, *nonce, quote.pcrs)
               : VerifyQuoteIgnoringNonce(report.ak_pub.get(), quote.attest, quote.signature,
                                          quote.pcrs);
  return std::move(r).WithContext("Azure TPM quote (HCLAkPub)");
}

Result<Bytes> FetchAzureHclReport(Tpm& tpm, ByteSpan user_data, const HclFetchOptions& options) {
  if (user_data.size() > kHclUserDataSize) {
    return InvalidInput("HCL user data is " + std::to_string(user_data.size()) +
                        " bytes, at most 64 allowed");
  }
  Bytes padded = ToBytes(user_data);
  padded.resize(kHclUserDataSize, 0);
  auto sleep = options.sleep ? options.sleep
                             : [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  // Is this an Azure vTPM at all? Fail fast before writing anything.
  auto probe = tpm.NvRead(kHclReportNvIndex);
  if (!probe.ok()) return std::move(probe).WithContext("Azure HCL report");
  CVM_RETURN_IF_ERROR(tpm.NvWrite(kHclUserDataNvIndex, padded).WithContext("HCL user data"));
  for (int attempt = 0; attempt < options.attempts; ++attempt) {
    sleep(options.delay);
    CVM_ASSIGN_OR_RETURN(Bytes raw, tpm.NvRead(kHclReportNvIndex));
    auto parsed = ParseHclReport(raw);
    if (parsed.ok() && parsed->user_data == padded) return raw;
  }
  return DeadlineExceeded("Azure HCL report: the report did not pick up the user data after " +
                          std::to_string(options.attempts) + " reads");
}

}  // namespace cvm::tpm
