#include "gpu/evidence_json.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "common/chain_cache.h"
#include "common/encoding.h"
#include "common/ossl.h"

namespace cvm::gpu {
namespace {

using json = nlohmann::json;

bool AllHex(std::string_view s) {
  return !s.empty() && s.size() % 2 == 0 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c));
  });
}

Result<std::string> Field(const json& e, const char* name, bool required) {
  if (!e.contains(name)) {
    if (required) return InvalidInput(std::string("no \"") + name + "\"");
    return std::string();
  }
  if (!e[name].is_string()) return InvalidInput(std::string("\"") + name + "\" is not a string");
  return e[name].get<std::string>();
}

// The certificates of one evidence list, each distinct one decoded once. The GPUs of a system
// share the top of their chains (on Hopper, three of each GPU's five certificates: two
// intermediates and the root; the leaf and the device identity are the GPU's own), and
// OpenSSL 3 spends about as much on decoding a certificate, its P-384 key above all, as on
// checking its signature. The list's own ChainCache remembers each decoded certificate by its
// DER (CertificateFromDerCached): decoding is a pure function of the DER, and a Certificate is
// reference-counted and never changed, so sharing one changes no result: every check on every
// chain still runs for every GPU. Reads what ParseCertificates reads: PEM "CERTIFICATE" (and the
// old "X509 CERTIFICATE") blocks, others skipped as PEM_read_bio_X509 skips them, or one DER
// certificate; a DER certificate inside a PEM block must have no trailing bytes.
class ListCertificates {
 public:
  Result<std::vector<Certificate>> Parse(ByteSpan data) {
    if (AsChars(data).find("-----BEGIN") == std::string_view::npos) return ParseCertificates(data);
    ossl::Bio bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
    if (!bio) return ossl::Error("BIO_new_mem_buf");
    std::vector<Certificate> out;
    while (true) {
      char* name = nullptr;
      char* header = nullptr;
      unsigned char* der = nullptr;
      long size = 0;  // NOLINT(google-runtime-int): OpenSSL's type
      if (PEM_read_bio(bio.get(), &name, &header, &der, &size) != 1) break;
      std::unique_ptr<char, OpensslFree> owned_name(name), owned_header(header);
      std::unique_ptr<unsigned char, OpensslFree> owned_der(der);
      std::string_view block = name;
      if (block != PEM_STRING_X509 && block != PEM_STRING_X509_OLD) continue;
      CVM_ASSIGN_OR_RETURN(Certificate c, CertificateFromDerCached(
                                              &decoded_, ByteSpan(der, static_cast<size_t>(size))));
      out.push_back(std::move(c));
    }
    // The loop ends on "no start line" at the end of input; anything else is a broken block.
    unsigned long err = ERR_peek_last_error();  // NOLINT(google-runtime-int)
    bool clean_end = ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
    if (!clean_end && err != 0) {
      return ossl::Error("malformed PEM certificate", Code::kInvalidInput);
    }
    ossl::ClearErrors();
    if (out.empty()) return InvalidInput("no certificate in PEM input");
    return out;
  }

 private:
  struct OpensslFree {
    template <typename T>
    void operator()(T* p) const {
      OPENSSL_free(p);
    }
  };
  ChainCache decoded_;  // only its memo of decoded certificates, by their DER
};

Result<GpuEvidence> ParseEntry(const json& e, ListCertificates& certificates) {
  if (!e.is_object()) return InvalidInput("not an object");
  GpuEvidence g;
  CVM_ASSIGN_OR_RETURN(std::string arch, Field(e, "arch", true));
  CVM_ASSIGN_OR_RETURN(g.arch, ParseArchitecture(arch));
  CVM_ASSIGN_OR_RETURN(g.uuid, Field(e, "uuid", false));
  CVM_ASSIGN_OR_RETURN(std::string evidence, Field(e, "evidence", true));
  // Trustee accepts the report as hex or base64; a base64 report always has non-hex characters.
  auto report = AllHex(evidence) ? HexDecode(evidence) : Base64Decode(evidence);
  if (!report.ok()) return report.status().WithContext("\"evidence\"");
  if (report->size() > kMaxReportSize) {
    return InvalidInput("\"evidence\" is " + std::to_string(report->size()) +
                        " bytes, over NVML's " + std::to_string(kMaxReportSize));
  }
  g.report = std::move(report).value();
  CVM_ASSIGN_OR_RETURN(std::string cert, Field(e, "certificate", true));
  Bytes pem;
  if (cert.find("-----BEGIN") != std::string::npos) {
    pem = ToBytes(AsBytes(cert));
  } else {
    auto d = Base64Decode(cert);
    if (!d.ok()) return d.status().WithContext("\"certificate\"");
    pem = std::move(d).value();
  }
  auto chain = certificates.Parse(pem);
  if (!chain.ok()) return chain.status().WithContext("\"certificate\"");
  g.chain = std::move(chain).value();
  return g;
}

Result<std::vector<GpuEvidence>> ParseValue(const json& j, int depth,
                                            ListCertificates& certificates) {
  if (depth > 3) return InvalidInput("gpu evidence json: nested too deeply");
  if (j.is_string()) {
    json inner = json::parse(j.get<std::string>(), nullptr, /*allow_exceptions=*/false);
    if (inner.is_discarded()) return InvalidInput("gpu evidence json: string is not JSON");
    return ParseValue(inner, depth + 1, certificates);
  }
  if (j.is_object()) {
    if (j.contains("nvidia")) return ParseValue(j["nvidia"], depth + 1, certificates);
    if (j.contains("device_evidence_list")) {
      return ParseValue(j["device_evidence_list"], depth + 1, certificates);
    }
    return InvalidInput("gpu evidence json: object without \"device_evidence_list\" or \"nvidia\"");
  }
  if (!j.is_array()) return InvalidInput("gpu evidence json: not a list of GPU evidence");
  if (j.size() > kMaxGpusPerList) {
    return InvalidInput("gpu evidence json: " + std::to_string(j.size()) + " entries, over " +
                        std::to_string(kMaxGpusPerList));
  }
  std::vector<GpuEvidence> out;
  for (size_t i = 0; i < j.size(); ++i) {
    auto g = ParseEntry(j[i], certificates);
    if (!g.ok()) return g.status().WithContext("gpu evidence json: entry " + std::to_string(i));
    out.push_back(std::move(g).value());
  }
  return out;
}

}  // namespace

Result<std::vector<GpuEvidence>> ParseEvidenceJson(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidInput("gpu evidence json: not valid JSON");
  ListCertificates certificates;
  return ParseValue(j, 0, certificates);
}

std::string EvidenceListJson(std::span<const GpuEvidence> gpus) {
  json list = json::array();
  for (const auto& g : gpus) {
    std::string pem;
    for (const auto& c : g.chain) pem += c.Pem();
    json e;
    e["arch"] = std::string(ArchitectureName(g.arch));
    if (!g.uuid.empty()) e["uuid"] = g.uuid;
    e["evidence"] = Base64Encode(g.report);
    e["certificate"] = Base64Encode(AsBytes(pem));
    list.push_back(std::move(e));
  }
  json out;
  out["device_evidence_list"] = std::move(list);
  return out.dump();
}

}  // namespace cvm::gpu
