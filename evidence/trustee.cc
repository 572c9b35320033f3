// Trustee `tee-evidence` <-> Bundle (kbs-protocol.md section c). The SNP report's JSON is the
// virtee/sev crate's serde form (AttestationReport at the rev Trustee pins): every field, byte
// arrays as arrays of integers, TCB versions as {fmc, bootloader, tee, snp, microcode} in the
// layout of the report's generation; bytes <-> JSON is checked to be lossless both ways.
#include "evidence/trustee.h"

#include <algorithm>
#include <limits>

#include "common/chain_cache.h"
#include "common/encoding.h"
#include "common/x509.h"
#include "evidence/json_util.h"
#include "snp/report.h"
#include "snp/vcek.h"
#include "tpm/attest.h"

namespace cvm::evidence {
namespace {

using internal::Base64Member;
using internal::Base64UrlMember;
using internal::ByteArray;
using internal::HexMember;
using internal::Join;
using internal::Member;
using internal::OnlyMembers;
using internal::ToByteArray;
using internal::Uint;
using nlohmann::json;
using nlohmann::ordered_json;

// Azure evidence encodes binaries as URL-safe base64 *with* padding (Rust URL_SAFE engine).
std::string Base64UrlPadded(ByteSpan data) {
  std::string s = Base64UrlEncode(data);
  while (s.size() % 4 != 0) s.push_back('=');
  return s;
}

// --- SNP ------------------------------------------------------------------------------------

// The TCB layout generation as the sev crate decides it: v2 reports by CHIP_ID (Turin-like when
// bytes 8..63 are zero; sev refuses a masked, all-zero CHIP_ID), v3+ by CPUID family/model.
Result<snp::Product> SevGeneration(uint32_t version, ByteSpan chip_id, uint8_t family,
                                   uint8_t model) {
  if (version < 3) {
    if (IsAllZero(chip_id)) {
      return InvalidInput("version 2 report with a masked CHIP_ID: its TCB layout is unknown");
    }
    return IsAllZero(chip_id.subspan(8)) ? snp::Product::kTurin : snp::Product::kGenoa;
  }
  snp::Report r;
  r.version = version;
  r.cpuid_fam_id = family;
  r.cpuid_mod_id = model;
  snp::Product p = snp::ProductFromCpuid(r);
  if (p == snp::Product::kUnknown) {
    return InvalidInput("cpuid family 0x" + HexEncode(Bytes{family}) + " model 0x" +
                        HexEncode(Bytes{model}) + " is not a known SEV-SNP generation");
  }
  return p;
}

ordered_json TcbJson(uint64_t raw, snp::Product gen) {
  snp::TcbParts t = snp::DecodeTcb(raw, gen);
  ordered_json j;
  j["fmc"] = snp::UsesTurinLayout(gen) ? ordered_json(t.fmc) : ordered_json(nullptr);
  j["bootloader"] = t.bootloader;
  j["tee"] = t.tee;
  j["snp"] = t.snp;
  j["microcode"] = t.microcode;
  return j;
}

Result<uint64_t> TcbFromJson(const json& j, snp::Product gen, const std::string& path) {
  CVM_RETURN_IF_ERROR(OnlyMembers(j, {"fmc", "bootloader", "tee", "snp", "microcode"}, path));
  snp::TcbParts t;
  auto fmc = j.find("fmc");
  if (fmc != j.end() && !fmc->is_null()) {
    if (!snp::UsesTurinLayout(gen)) {
      return InvalidInput(path + ".fmc: set on a report whose generation has no FMC");
    }
    CVM_ASSIGN_OR_RETURN(uint64_t v, Uint(*fmc, 255, path + ".fmc"));
    t.fmc = static_cast<uint8_t>(v);
  } else if (snp::UsesTurinLayout(gen)) {
    return InvalidInput(path + ".fmc: missing on a Turin report");
  }
  for (auto [name, field] : {std::pair{"bootloader", &t.bootloader}, std::pair{"tee", &t.tee},
                             std::pair{"snp", &t.snp}, std::pair{"microcode", &t.microcode}}) {
    CVM_ASSIGN_OR_RETURN(const json* m, Member(j, name, path));
    CVM_ASSIGN_OR_RETURN(uint64_t v, Uint(*m, 255, Join(path, name)));
    *field = static_cast<uint8_t>(v);
  }
  return snp::EncodeTcb(t, gen);
}

template <size_t N>
Status ReadArray(const json& a, std::string_view name, std::array<uint8_t, N>* out) {
  CVM_ASSIGN_OR_RETURN(const json* m, Member(a, name, "attestation_report"));
  CVM_ASSIGN_OR_RETURN(Bytes b, ByteArray(*m, N, Join("attestation_report", name)));
  std::copy(b.begin(), b.end(), out->begin());
  return Status::Ok();
}

template <typename T>
Status ReadUint(const json& a, std::string_view name, T* out) {
  CVM_ASSIGN_OR_RETURN(const json* m, Member(a, name, "attestation_report"));
  CVM_ASSIGN_OR_RETURN(uint64_t v,
                       Uint(*m, std::numeric_limits<T>::max(), Join("attestation_report", name)));
  *out = static_cast<T>(v);
  return Status::Ok();
}

// An Option<u8>/Option<u64> member: absent or null -> nullopt.
template <typename T>
Result<std::optional<T>> ReadOptional(const json& a, std::string_view name) {
  auto it = a.find(std::string(name));
  if (it == a.end() || it->is_null()) return std::optional<T>();
  CVM_ASSIGN_OR_RETURN(uint64_t v,
                       Uint(*it, std::numeric_limits<T>::max(), Join("attestation_report", name)));
  return std::optional<T>(static_cast<T>(v));
}

Status ReadVersion(const json& a, std::string_view name, uint8_t* major, uint8_t* minor,
                   uint8_t* build) {
  std::string path = Join("attestation_report", name);
  CVM_ASSIGN_OR_RETURN(const json* v, Member(a, name, "attestation_report"));
  CVM_RETURN_IF_ERROR(OnlyMembers(*v, {"major", "minor", "build"}, path));
  for (auto [n, f] :
       {std::pair{"major", major}, std::pair{"minor", minor}, std::pair{"build", build}}) {
    CVM_ASSIGN_OR_RETURN(const json* m, Member(*v, n, path));
    CVM_ASSIGN_OR_RETURN(uint64_t x, Uint(*m, 255, Join(path, n)));
    *f = static_cast<uint8_t>(x);
  }
  return Status::Ok();
}

// Cert table entry types as the sev crate's CertType serialises them.
Result<std::string> CertTypeOf(ByteSpan der) {
  auto cert = Certificate::FromDer(der);
  if (!cert.ok()) return InvalidInput("certs: an entry is not a DER certificate");
  if (cert->Extension(snp::kOidHwId)) return std::string("VCEK");
  if (cert->Extension(snp::kOidCspId)) return std::string("VLEK");
  if (cert->Subject() == cert->Issuer()) return std::string("ARK");
  return std::string("ASK");
}

}  // namespace

Result<ordered_json> SnpReportToSevJson(ByteSpan report_bytes) {
  CVM_ASSIGN_OR_RETURN(snp::Report r, snp::ParseReport(report_bytes));
  CVM_ASSIGN_OR_RETURN(snp::Product gen,
                       SevGeneration(r.version, r.chip_id, r.cpuid_fam_id, r.cpuid_mod_id));
  ordered_json a;
  a["version"] = r.version;
  a["guest_svn"] = r.guest_svn;
  a["policy"] = r.policy;
  a["family_id"] = ToByteArray(r.family_id);
  a["image_id"] = ToByteArray(r.image_id);
  a["vmpl"] = r.vmpl;
  a["sig_algo"] = r.signature_algo;
  a["current_tcb"] = TcbJson(r.current_tcb, gen);
  a["plat_info"] = r.platform_info;
  a["key_info"] = r.signer_info;
  a["report_data"] = ToByteArray(r.report_data);
  a["measurement"] = ToByteArray(r.measurement);
  a["host_data"] = ToByteArray(r.host_data);
  a["id_key_digest"] = ToByteArray(r.id_key_digest);
  a["author_key_digest"] = ToByteArray(r.author_key_digest);
  a["report_id"] = ToByteArray(r.report_id);
  a["report_id_ma"] = ToByteArray(r.report_id_ma);
  a["reported_tcb"] = TcbJson(r.reported_tcb, gen);
  a["cpuid_fam_id"] = r.HasCpuid() ? ordered_json(r.cpuid_fam_id) : ordered_json(nullptr);
  a["cpuid_mod_id"] = r.HasCpuid() ? ordered_json(r.cpuid_mod_id) : ordered_json(nullptr);
  a["cpuid_step"] = r.HasCpuid() ? ordered_json(r.cpuid_step) : ordered_json(nullptr);
  a["chip_id"] = ToByteArray(r.chip_id);
  a["committed_tcb"] = TcbJson(r.committed_tcb, gen);
  a["current"] = {
      {"major", r.current_major}, {"minor", r.current_minor}, {"build", r.current_build}};
  a["committed"] = {
      {"major", r.committed_major}, {"minor", r.committed_minor}, {"build", r.committed_build}};
  a["launch_tcb"] = TcbJson(r.launch_tcb, gen);
  a["launch_mit_vector"] =
      r.HasMitigationVectors() ? ordered_json(r.launch_mit_vector) : ordered_json(nullptr);
  a["current_mit_vector"] =
      r.HasMitigationVectors() ? ordered_json(r.current_mit_vector) : ordered_json(nullptr);
  a["signature"] = {{"r", ToByteArray(r.signature_r)}, {"s", ToByteArray(r.signature_s)}};
  // The JSON drops what the sev crate does not model (reserved TCB bytes); refuse a report
  // that would not come back byte for byte.
  CVM_ASSIGN_OR_RETURN(Bytes again, SnpReportFromSevJson(json::parse(a.dump())));
  if (again != Bytes(report_bytes.begin(), report_bytes.end())) {
    return InvalidInput(
        "snp report: reserved TCB bytes are set, so the sev JSON form cannot carry it");
  }
  return a;
}

Result<Bytes> SnpReportFromSevJson(const json& a) {
  CVM_RETURN_IF_ERROR(OnlyMembers(a,
                                  {"version",
                                   "guest_svn",
                                   "policy",
                                   "family_id",
                                   "image_id",
                                   "vmpl",
                                   "sig_algo",
                                   "current_tcb",
                                   "plat_info",
                                   "key_info",
                                   "report_data",
                                   "measurement",
                                   "host_data",
                                   "id_key_digest",
                                   "author_key_digest",
                                   "report_id",
                                   "report_id_ma",
                                   "reported_tcb",
                                   "cpuid_fam_id",
                                   "cpuid_mod_id",
                                   "cpuid_step",
                                   "chip_id",
                                   "committed_tcb",
                                   "current",
                                   "committed",
                                   "launch_tcb",
                                   "launch_mit_vector",
                                   "current_mit_vector",
                                   "signature"},
                                  "attestation_report"));
  snp::Report r;
  CVM_RETURN_IF_ERROR(ReadUint(a, "version", &r.version));
  if (r.version < snp::kMinReportVersion || r.version > snp::kMaxReportVersion) {
    return Unsupported("attestation_report.version: " + std::to_string(r.version) +
                       " is not a report version this build handles");
  }
  CVM_RETURN_IF_ERROR(ReadUint(a, "guest_svn", &r.guest_svn));
  CVM_RETURN_IF_ERROR(ReadUint(a, "policy", &r.policy));
  CVM_RETURN_IF_ERROR(ReadArray(a, "family_id", &r.family_id));
  CVM_RETURN_IF_ERROR(ReadArray(a, "image_id", &r.image_id));
  CVM_RETURN_IF_ERROR(ReadUint(a, "vmpl", &r.vmpl));
  CVM_RETURN_IF_ERROR(ReadUint(a, "sig_algo", &r.signature_algo));
  CVM_RETURN_IF_ERROR(ReadUint(a, "plat_info", &r.platform_info));
  CVM_RETURN_IF_ERROR(ReadUint(a, "key_info", &r.signer_info));
  CVM_RETURN_IF_ERROR(ReadArray(a, "report_data", &r.report_data));
  CVM_RETURN_IF_ERROR(ReadArray(a, "measurement", &r.measurement));
  CVM_RETURN_IF_ERROR(ReadArray(a, "host_data", &r.host_data));
  CVM_RETURN_IF_ERROR(ReadArray(a, "id_key_digest", &r.id_key_digest));
  CVM_RETURN_IF_ERROR(ReadArray(a, "author_key_digest", &r.author_key_digest));
  CVM_RETURN_IF_ERROR(ReadArray(a, "report_id", &r.report_id));
  CVM_RETURN_IF_ERROR(ReadArray(a, "report_id_ma", &r.report_id_ma));
  CVM_RETURN_IF_ERROR(ReadArray(a, "chip_id", &r.chip_id));
  CVM_ASSIGN_OR_RETURN(auto fam, ReadOptional<uint8_t>(a, "cpuid_fam_id"));
  CVM_ASSIGN_OR_RETURN(auto mod, ReadOptional<uint8_t>(a, "cpuid_mod_id"));
  CVM_ASSIGN_OR_RETURN(auto step, ReadOptional<uint8_t>(a, "cpuid_step"));
  if (r.HasCpuid()) {
    if (!fam || !mod || !step) {
      return InvalidInput("attestation_report.cpuid_*: required for report version 3 and later");
    }
    r.cpuid_fam_id = *fam;
    r.cpuid_mod_id = *mod;
    r.cpuid_step = *step;
  } else if (fam || mod || step) {
    return InvalidInput("attestation_report.cpuid_*: set on a version 2 report");
  }
  CVM_ASSIGN_OR_RETURN(auto lmv, ReadOptional<uint64_t>(a, "launch_mit_vector"));
  CVM_ASSIGN_OR_RETURN(auto cmv, ReadOptional<uint64_t>(a, "current_mit_vector"));
  if (r.HasMitigationVectors()) {
    r.launch_mit_vector = lmv.value_or(0);
    r.current_mit_vector = cmv.value_or(0);
  } else if (lmv || cmv) {
    return InvalidInput("attestation_report.*_mit_vector: set on a report before version 5");
  }
  CVM_ASSIGN_OR_RETURN(snp::Product gen,
                       SevGeneration(r.version, r.chip_id, r.cpuid_fam_id, r.cpuid_mod_id));
  for (auto [name, field] :
       {std::pair{"current_tcb", &r.current_tcb}, std::pair{"reported_tcb", &r.reported_tcb},
        std::pair{"committed_tcb", &r.committed_tcb}, std::pair{"launch_tcb", &r.launch_tcb}}) {
    CVM_ASSIGN_OR_RETURN(const json* m, Member(a, name, "attestation_report"));
    CVM_ASSIGN_OR_RETURN(*field, TcbFromJson(*m, gen, Join("attestation_report", name)));
  }
  CVM_RETURN_IF_ERROR(
      ReadVersion(a, "current", &r.current_major, &r.current_minor, &r.current_build));
  CVM_RETURN_IF_ERROR(
      ReadVersion(a, "committed", &r.committed_major, &r.committed_minor, &r.committed_build));
  CVM_ASSIGN_OR_RETURN(const json* sig, Member(a, "signature", "attestation_report"));
  CVM_RETURN_IF_ERROR(OnlyMembers(*sig, {"r", "s"}, "attestation_report.signature"));
  CVM_ASSIGN_OR_RETURN(const json* sr, Member(*sig, "r", "attestation_report.signature"));
  CVM_ASSIGN_OR_RETURN(const json* ss, Member(*sig, "s", "attestation_report.signature"));
  CVM_ASSIGN_OR_RETURN(Bytes rb, ByteArray(*sr, 72, "attestation_report.signature.r"));
  CVM_ASSIGN_OR_RETURN(Bytes sb, ByteArray(*ss, 72, "attestation_report.signature.s"));
  std::copy(rb.begin(), rb.end(), r.signature_r.begin());
  std::copy(sb.begin(), sb.end(), r.signature_s.begin());
  Bytes out = snp::SerializeReport(r);
  // The fields must make a report our parser accepts (policy bits, signing key...).
  CVM_RETURN_IF_ERROR(snp::ParseReport(out).status().WithContext("attestation_report"));
  return out;
}

// --- TPM ("tpm" additional evidence) ---------------------------------------------------------

Result<json> ToTrusteeTpmEvidence(const TpmEvidence& tpm) {
  auto bank = tpm.pcrs.find(DigestAlg::kSha256);
  json pcrs = json::array();
  for (uint32_t i = 0; i <= 23; ++i) {
    const Bytes* v = nullptr;
    if (bank != tpm.pcrs.end()) {
      auto it = bank->second.find(i);
      if (it != bank->second.end()) v = &it->second;
    }
    if (v == nullptr) {
      return InvalidInput("tpm: Trustee's tpm evidence carries all 24 sha256 PCRs; sha256:" +
                          std::to_string(i) + " is missing");
    }
    pcrs.push_back(HexEncode(*v));
  }
  if (tpm.pcrs.size() != 1) {
    return InvalidInput("tpm: Trustee's tpm evidence carries only the sha256 bank");
  }
  json j = {{"ak_public", Base64Encode(tpm.ak_public)},
            {"tpm_quote",
             {{"signature", Base64Encode(tpm.signature)},
              {"message", Base64Encode(tpm.attest)},
              {"pcrs", pcrs}}}};
  if (!tpm.ak_public_area.empty()) j["ak_public_area"] = Base64Encode(tpm.ak_public_area);
  if (!tpm.event_log.empty()) j["event_log"] = Base64Encode(tpm.event_log);
  return j;
}

Result<TpmEvidence> FromTrusteeTpmEvidence(const json& j) {
  const std::string path = "tpm";
  CVM_RETURN_IF_ERROR(
      OnlyMembers(j, {"ak_public", "tpm_quote", "ak_public_area", "event_log"}, path));
  TpmEvidence t;
  CVM_ASSIGN_OR_RETURN(const json* ak, Member(j, "ak_public", path));
  CVM_ASSIGN_OR_RETURN(t.ak_public, Base64Member(*ak, "tpm.ak_public"));
  if (auto it = j.find("ak_public_area"); it != j.end()) {
    CVM_ASSIGN_OR_RETURN(t.ak_public_area, Base64Member(*it, "tpm.ak_public_area"));
  }
  if (auto it = j.find("event_log"); it != j.end()) {
    CVM_ASSIGN_OR_RETURN(t.event_log, Base64Member(*it, "tpm.event_log"));
  }
  CVM_ASSIGN_OR_RETURN(const json* q, Member(j, "tpm_quote", path));
  CVM_RETURN_IF_ERROR(OnlyMembers(*q, {"signature", "message", "pcrs"}, "tpm.tpm_quote"));
  CVM_ASSIGN_OR_RETURN(const json* sig, Member(*q, "signature", "tpm.tpm_quote"));
  CVM_ASSIGN_OR_RETURN(t.signature, Base64Member(*sig, "tpm.tpm_quote.signature"));
  CVM_ASSIGN_OR_RETURN(const json* msg, Member(*q, "message", "tpm.tpm_quote"));
  CVM_ASSIGN_OR_RETURN(t.attest, Base64Member(*msg, "tpm.tpm_quote.message"));
  CVM_ASSIGN_OR_RETURN(const json* pcrs, Member(*q, "pcrs", "tpm.tpm_quote"));
  if (!pcrs->is_array() || pcrs->size() > 24) {
    return InvalidInput("tpm.tpm_quote.pcrs: not an array of at most 24 PCR values");
  }
  for (size_t i = 0; i < pcrs->size(); ++i) {
    CVM_ASSIGN_OR_RETURN(
        Bytes v, HexMember((*pcrs)[i], 32, "tpm.tpm_quote.pcrs[" + std::to_string(i) + "]"));
    t.pcrs[DigestAlg::kSha256][static_cast<uint32_t>(i)] = std::move(v);
  }
  return t;
}

// --- Azure ------------------------------------------------------------------------------------

namespace {

// TPMT_SIGNATURE for a raw RSASSA-PKCS1-v1_5 SHA-256 signature (what Azure's AK makes).
Bytes WrapRsassaSha256(ByteSpan raw) {
  Bytes out = {0x00,
               0x14,
               0x00,
               0x0B,
               static_cast<uint8_t>(raw.size() >> 8),
               static_cast<uint8_t>(raw.size() & 0xFF)};
  out.insert(out.end(), raw.begin(), raw.end());
  return out;
}

Result<Bytes> UnwrapRsassaSha256(ByteSpan tpmt) {
  CVM_ASSIGN_OR_RETURN(tpm::TpmSignature s, tpm::ParseTpmSignature(tpmt));
  if (s.scheme != tpm::SigScheme::kRsaSsa || s.hash != DigestAlg::kSha256) {
    return InvalidInput("tpm.signature: Azure evidence carries RSASSA SHA-256 signatures only");
  }
  return s.sig;
}

Result<std::vector<Bytes>> AzurePcrList(const TpmEvidence& tpm) {
  std::vector<Bytes> out;
  auto bank = tpm.pcrs.find(DigestAlg::kSha256);
  if (tpm.pcrs.size() != 1 || bank == tpm.pcrs.end()) {
    return InvalidInput("tpm.pcrs: Azure evidence carries the sha256 bank only");
  }
  uint32_t next = 0;
  for (const auto& [index, value] : bank->second) {
    if (index != next++) {
      return InvalidInput("tpm.pcrs: Azure evidence carries sha256 PCRs 0..N-1 without gaps");
    }
    out.push_back(value);
  }
  return out;
}

Result<TpmEvidence> AzureQuoteFromJson(const json& q, bool bytes_form, const std::string& path) {
  CVM_RETURN_IF_ERROR(OnlyMembers(q, {"signature", "message", "pcrs"}, path));
  TpmEvidence t;
  CVM_ASSIGN_OR_RETURN(const json* sig, Member(q, "signature", path));
  CVM_ASSIGN_OR_RETURN(const json* msg, Member(q, "message", path));
  CVM_ASSIGN_OR_RETURN(const json* pcrs, Member(q, "pcrs", path));
  Bytes raw_sig;
  if (bytes_form) {
    CVM_ASSIGN_OR_RETURN(raw_sig, ByteArray(*sig, 0, Join(path, "signature"), 1024));
    CVM_ASSIGN_OR_RETURN(t.attest, ByteArray(*msg, 0, Join(path, "message"), 4096));
  } else {
    CVM_ASSIGN_OR_RETURN(raw_sig, HexMember(*sig, 0, Join(path, "signature")));
    CVM_ASSIGN_OR_RETURN(t.attest, HexMember(*msg, 0, Join(path, "message")));
  }
  if (raw_sig.empty() || raw_sig.size() > 1024) {
    return InvalidInput(Join(path, "signature") + ": not an RSA signature");
  }
  t.signature = WrapRsassaSha256(raw_sig);
  if (!pcrs->is_array() || pcrs->size() > 24) {
    return InvalidInput(Join(path, "pcrs") + ": not an array of at most 24 PCR values");
  }
  for (size_t i = 0; i < pcrs->size(); ++i) {
    std::string p = Join(path, "pcrs") + "[" + std::to_string(i) + "]";
    Bytes v;
    if (bytes_form) {
      CVM_ASSIGN_OR_RETURN(v, ByteArray((*pcrs)[i], 32, p));
    } else {
      CVM_ASSIGN_OR_RETURN(v, HexMember((*pcrs)[i], 32, p));
    }
    t.pcrs[DigestAlg::kSha256][static_cast<uint32_t>(i)] = std::move(v);
  }
  return t;
}

Result<json> AzureQuoteToJson(const TpmEvidence& tpm, bool bytes_form) {
  CVM_ASSIGN_OR_RETURN(Bytes raw_sig, UnwrapRsassaSha256(tpm.signature));
  CVM_ASSIGN_OR_RETURN(std::vector<Bytes> pcrs, AzurePcrList(tpm));
  json j;
  if (bytes_form) {
    j["signature"] = ToByteArray(raw_sig);
    j["message"] = ToByteArray(tpm.attest);
    j["pcrs"] = json::array();
    for (const auto& p : pcrs) j["pcrs"].push_back(ToByteArray(p));
  } else {
    j["signature"] = HexEncode(raw_sig);
    j["message"] = HexEncode(tpm.attest);
    j["pcrs"] = json::array();
    for (const auto& p : pcrs) j["pcrs"].push_back(HexEncode(p));
  }
  return j;
}

Result<Bundle> AzureFromJson(TeeKind tee, const json& p) {
  Bundle b;
  b.tee = tee;
  const bool snp = tee == TeeKind::kAzSnpVtpm;
  const char* hw = snp ? "vcek" : "td_quote";
  if (!p.is_object()) return InvalidInput("primary_evidence: not a JSON object");
  if (!p.contains("version")) {
    // v0: byte arrays; az-snp-vtpm {quote, report, vcek (PEM)}, az-tdx-vtpm {tpm_quote,
    // hcl_report, td_quote}.
    b.azure_evidence_version = 0;
    const char* qn = snp ? "quote" : "tpm_quote";
    const char* rn = snp ? "report" : "hcl_report";
    CVM_RETURN_IF_ERROR(OnlyMembers(p, {qn, rn, hw}, ""));
    CVM_ASSIGN_OR_RETURN(const json* q, Member(p, qn, ""));
    CVM_ASSIGN_OR_RETURN(TpmEvidence t, AzureQuoteFromJson(*q, true, qn));
    b.tpm = std::move(t);
    CVM_ASSIGN_OR_RETURN(const json* r, Member(p, rn, ""));
    CVM_ASSIGN_OR_RETURN(b.report, ByteArray(*r, 0, rn, 1 << 16));
    CVM_ASSIGN_OR_RETURN(const json* h, Member(p, hw, ""));
    if (snp) {
      CVM_ASSIGN_OR_RETURN(std::string pem, internal::String(*h, "vcek"));
      CVM_ASSIGN_OR_RETURN(Certificate c, Certificate::FromPem(pem).WithContext("vcek"));
      b.certs.push_back(c.Der());
    } else {
      CVM_ASSIGN_OR_RETURN(b.td_quote, ByteArray(*h, 0, "td_quote", 1 << 16));
    }
    return b;
  }
  CVM_RETURN_IF_ERROR(OnlyMembers(p, {"version", "tpm_quote", "hcl_report", hw}, ""));
  CVM_ASSIGN_OR_RETURN(uint64_t version, Uint(p["version"], 1000, "version"));
  if (version != 1 && version != 2) {
    return Unsupported("version: Azure evidence version " + std::to_string(version) +
                       " is not supported");
  }
  b.azure_evidence_version = static_cast<int>(version);
  CVM_ASSIGN_OR_RETURN(const json* q, Member(p, "tpm_quote", ""));
  CVM_ASSIGN_OR_RETURN(TpmEvidence t, AzureQuoteFromJson(*q, false, "tpm_quote"));
  b.tpm = std::move(t);
  CVM_ASSIGN_OR_RETURN(const json* r, Member(p, "hcl_report", ""));
  CVM_ASSIGN_OR_RETURN(b.report, Base64UrlMember(*r, "hcl_report"));
  CVM_ASSIGN_OR_RETURN(const json* h, Member(p, hw, ""));
  CVM_ASSIGN_OR_RETURN(Bytes hw_bytes, Base64UrlMember(*h, hw));
  if (snp) {
    b.certs.push_back(std::move(hw_bytes));
  } else {
    b.td_quote = std::move(hw_bytes);
  }
  return b;
}

Result<json> AzureToJson(const Bundle& b) {
  const bool snp = b.tee == TeeKind::kAzSnpVtpm;
  if (!b.tpm) return InvalidInput("Azure evidence needs the TPM quote");
  if (snp && b.certs.size() != 1) {
    return InvalidInput("az-snp-vtpm evidence carries exactly one certificate (the VCEK)");
  }
  if (!snp && b.td_quote.empty()) return InvalidInput("az-tdx-vtpm evidence needs the TD quote");
  json j;
  if (b.azure_evidence_version == 0) {
    CVM_ASSIGN_OR_RETURN(json q, AzureQuoteToJson(*b.tpm, true));
    if (snp) {
      CVM_ASSIGN_OR_RETURN(Certificate c, Certificate::FromDer(b.certs[0]));
      j["quote"] = q;
      j["report"] = ToByteArray(b.report);
      j["vcek"] = c.Pem();
    } else {
      j["tpm_quote"] = q;
      j["hcl_report"] = ToByteArray(b.report);
      j["td_quote"] = ToByteArray(b.td_quote);
    }
    return j;
  }
  if (b.azure_evidence_version != 1 && b.azure_evidence_version != 2) {
    return InvalidInput("azure evidence version must be 0, 1 or 2");
  }
  CVM_ASSIGN_OR_RETURN(json q, AzureQuoteToJson(*b.tpm, false));
  j["version"] = b.azure_evidence_version;
  j["tpm_quote"] = q;
  j["hcl_report"] = Base64UrlPadded(b.report);
  if (snp) {
    j["vcek"] = Base64UrlPadded(b.certs[0]);
  } else {
    j["td_quote"] = Base64UrlPadded(b.td_quote);
  }
  return j;
}

// Reads additional_evidence: "" or the JSON text of {"<tee>": evidence, ...}; "tpm" is read
// here, "nvidia" (GPUs) stays in the runtime data, where VerifyBundle verifies it against the
// nonce; any other device is refused rather than ignored. *nvidia says whether GPUs are present.
Result<std::optional<TpmEvidence>> ParseAdditional(std::string_view additional,
                                                   bool* nvidia = nullptr) {
  if (additional.empty()) return std::optional<TpmEvidence>();
  json a = json::parse(additional, nullptr, false);
  if (a.is_discarded() || !a.is_object()) {
    return InvalidInput("additional_evidence: not the JSON text of an object");
  }
  std::optional<TpmEvidence> tpm;
  for (const auto& [key, value] : a.items()) {
    if (key == "nvidia") {
      if (!value.is_object()) return InvalidInput("additional_evidence.nvidia: not an object");
      if (nvidia != nullptr) *nvidia = true;
      continue;
    }
    if (key != "tpm") {
      return Unsupported("additional_evidence: evidence of \"" + key +
                         "\" is not appraised by this build");
    }
    CVM_ASSIGN_OR_RETURN(TpmEvidence t, FromTrusteeTpmEvidence(value));
    tpm = std::move(t);
  }
  return tpm;
}

Result<Bundle> PrimaryToBundle(TeeKind tee, const json& primary, ChainCache* cache = nullptr) {
  Bundle b;
  b.tee = tee;
  switch (tee) {
    case TeeKind::kSnp: {
      CVM_RETURN_IF_ERROR(OnlyMembers(primary, {"attestation_report", "cert_chain"}, ""));
      CVM_ASSIGN_OR_RETURN(const json* a, Member(primary, "attestation_report", ""));
      CVM_ASSIGN_OR_RETURN(b.report, SnpReportFromSevJson(*a));
      CVM_ASSIGN_OR_RETURN(const json* chain, Member(primary, "cert_chain", ""));
      if (chain->is_null()) return b;
      if (!chain->is_array() || chain->size() > 16) {
        return InvalidInput("cert_chain: not null or an array of at most 16 entries");
      }
      for (size_t i = 0; i < chain->size(); ++i) {
        std::string path = "cert_chain[" + std::to_string(i) + "]";
        const json& e = (*chain)[i];
        CVM_RETURN_IF_ERROR(OnlyMembers(e, {"cert_type", "data"}, path));
        CVM_ASSIGN_OR_RETURN(const json* type, Member(e, "cert_type", path));
        CVM_ASSIGN_OR_RETURN(const json* data, Member(e, "data", path));
        CVM_ASSIGN_OR_RETURN(Bytes der, ByteArray(*data, 0, Join(path, "data"), 1 << 16));
        if (type->is_object()) {
          // {"OTHER": "<uuid>"}: data the verifier has no use for (e.g. platform info).
          CVM_RETURN_IF_ERROR(OnlyMembers(*type, {"OTHER"}, Join(path, "cert_type")));
          continue;
        }
        CVM_ASSIGN_OR_RETURN(std::string t, internal::String(*type, Join(path, "cert_type")));
        if (t == "Empty" || t == "CRL") continue;  // nothing to verify with / not a certificate
        if (t != "ARK" && t != "ASK" && t != "VCEK" && t != "VLEK") {
          return InvalidInput(Join(path, "cert_type") + ": unknown type \"" + t + "\"");
        }
        if (!CertificateFromDerCached(cache, der).ok()) {
          return InvalidInput(Join(path, "data") + ": not a DER certificate");
        }
        b.certs.push_back(std::move(der));
      }
      return b;
    }
    case TeeKind::kTdx: {
      CVM_RETURN_IF_ERROR(OnlyMembers(primary, {"cc_eventlog", "quote"}, ""));
      CVM_ASSIGN_OR_RETURN(const json* q, Member(primary, "quote", ""));
      CVM_ASSIGN_OR_RETURN(b.report, Base64Member(*q, "quote"));
      if (b.report.empty()) return InvalidInput("quote: empty");
      if (auto it = primary.find("cc_eventlog"); it != primary.end() && !it->is_null()) {
        CVM_ASSIGN_OR_RETURN(b.ccel, Base64Member(*it, "cc_eventlog"));
      }
      return b;
    }
    case TeeKind::kAzSnpVtpm:
    case TeeKind::kAzTdxVtpm:
      return AzureFromJson(tee, primary);
  }
  return InvalidInput("unknown TEE kind");
}

}  // namespace

Result<TrusteeEvidence> ToTrusteeEvidence(const Bundle& bundle) {
  TrusteeEvidence out;
  switch (bundle.tee) {
    case TeeKind::kSnp: {
      CVM_ASSIGN_OR_RETURN(ordered_json a, SnpReportToSevJson(bundle.report));
      json chain = nullptr;
      if (!bundle.certs.empty()) {
        chain = json::array();
        for (const auto& der : bundle.certs) {
          CVM_ASSIGN_OR_RETURN(std::string type, CertTypeOf(der));
          chain.push_back({{"cert_type", type}, {"data", ToByteArray(der)}});
        }
      }
      out.primary = {{"attestation_report", json::parse(a.dump())}, {"cert_chain", chain}};
      break;
    }
    case TeeKind::kTdx:
      out.primary = {
          {"cc_eventlog", bundle.ccel.empty() ? json(nullptr) : json(Base64Encode(bundle.ccel))},
          {"quote", Base64Encode(bundle.report)}};
      break;
    case TeeKind::kAzSnpVtpm:
    case TeeKind::kAzTdxVtpm: {
      CVM_ASSIGN_OR_RETURN(out.primary, AzureToJson(bundle));
      // The vTPM is the primary evidence; only devices (GPUs) can be additional.
      if (bundle.runtime_data && bundle.runtime_data->contains("additional-evidence")) {
        const json& a = (*bundle.runtime_data)["additional-evidence"];
        if (!a.is_string()) return InvalidInput("runtime_data.additional-evidence: not a string");
        out.additional = a.get<std::string>();
      }
      return out;
    }
  }
  // The additional evidence must be the exact string REPORT_DATA committed to.
  if (bundle.runtime_data && bundle.runtime_data->contains("additional-evidence")) {
    const json& a = (*bundle.runtime_data)["additional-evidence"];
    if (!a.is_string()) return InvalidInput("runtime_data.additional-evidence: not a string");
    out.additional = a.get<std::string>();
  } else if (bundle.tpm) {
    CVM_ASSIGN_OR_RETURN(json t, ToTrusteeTpmEvidence(*bundle.tpm));
    out.additional = json{{"tpm", t}}.dump();
  }
  return out;
}

Result<Bundle> FromTrusteeEvidence(TeeKind tee, const json& primary, std::string_view additional,
                                   DigestAlg hash, std::string_view nonce, const json& tee_pubkey,
                                   ChainCache* cache) {
  CVM_ASSIGN_OR_RETURN(
      Bundle b, PrimaryToBundle(tee, primary, cache).WithContext("tee-evidence.primary_evidence"));
  CVM_ASSIGN_OR_RETURN(std::optional<TpmEvidence> tpm, ParseAdditional(additional));
  if (tpm) {
    if (b.tpm) {
      return InvalidInput("additional_evidence: a vTPM kind carries its TPM in primary_evidence");
    }
    b.tpm = std::move(tpm);
  }
  b.runtime_data = json{{"additional-evidence", std::string(additional)},
                        {"nonce", std::string(nonce)},
                        {"tee-pubkey", tee_pubkey}};
  b.runtime_data_hash = hash;
  return b;
}

Result<Bundle> FromTrusteeEvidenceFile(TeeKind tee, std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return InvalidInput("tee-evidence: not JSON");
  // Either the bare primary evidence or the 0.4.0 wrapper {primary_evidence, additional_evidence}.
  if (j.is_object() && j.contains("primary_evidence")) {
    CVM_RETURN_IF_ERROR(OnlyMembers(j, {"primary_evidence", "additional_evidence"}, ""));
    std::string additional;
    if (auto it = j.find("additional_evidence"); it != j.end()) {
      CVM_ASSIGN_OR_RETURN(additional, internal::String(*it, "additional_evidence"));
    }
    CVM_ASSIGN_OR_RETURN(
        Bundle b,
        PrimaryToBundle(tee, j["primary_evidence"]).WithContext("tee-evidence.primary_evidence"));
    bool nvidia = false;
    CVM_ASSIGN_OR_RETURN(std::optional<TpmEvidence> tpm, ParseAdditional(additional, &nvidia));
    if (nvidia) {
      // GPU reports are bound to the runtime data's nonce, which a file does not carry.
      return Unsupported(
          "additional_evidence: GPU (\"nvidia\") evidence is verified against the runtime "
          "data of a KBS exchange, which a file does not carry; verify the GPUs with "
          "`cvmctl gpu verify --evidence F --nonce HEX`");
    }
    if (tpm) b.tpm = std::move(tpm);
    return b;
  }
  return PrimaryToBundle(tee, j).WithContext("tee-evidence");
}

Result<TeeKind> GuessTrusteeKind(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return InvalidInput("tee-evidence: not a JSON object");
  if (j.contains("primary_evidence")) j = j["primary_evidence"];
  if (!j.is_object()) return InvalidInput("tee-evidence: not a JSON object");
  if (j.contains("attestation_report")) return TeeKind::kSnp;
  if (j.contains("quote") && !j.contains("report")) {
    if (j.contains("cc_eventlog") || j["quote"].is_string()) return TeeKind::kTdx;
  }
  if (j.contains("vcek") || j.contains("report")) return TeeKind::kAzSnpVtpm;
  if (j.contains("td_quote")) return TeeKind::kAzTdxVtpm;
  return InvalidInput("tee-evidence: the content does not say which TEE it is from (use --tee)");
}

}  // namespace cvm::evidence
