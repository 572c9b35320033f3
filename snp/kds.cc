#include "snp/kds.h"

#include <cstdio>

#include "common/digest.h"
#include "common/encoding.h"
#include "common/file_util.h"

namespace cvm::snp {
namespace {

std::string Spl(const char* name, uint8_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%s=%02u", name, static_cast<unsigned>(v));
  return buf;
}

std::string Kind(SigningKey key) { return key == SigningKey::kVlek ? "vlek" : "vcek"; }

}  // namespace

std::string VcekUrl(const Report& report, Product product, std::string_view base) {
  TcbParts t = DecodeTcb(report.reported_tcb, product);
  std::string url = std::string(base) + "/vcek/v1/" + std::string(ProductName(product)) + "/" +
                    HexEncode(HwId(report, product)) + "?";
  if (UsesTurinLayout(product)) url += Spl("fmcSPL", t.fmc) + "&";
  url += Spl("blSPL", t.bootloader) + "&" + Spl("teeSPL", t.tee) + "&" + Spl("snpSPL", t.snp) +
         "&" + Spl("ucodeSPL", t.microcode);
  return url;
}

std::string CertChainUrl(Product product, SigningKey key, std::string_view base) {
  return std::string(base) + "/" + Kind(key) + "/v1/" + std::string(ProductName(product)) +
         "/cert_chain";
}

std::string CrlUrl(Product product, SigningKey key, std::string_view base) {
  return std::string(base) + "/" + Kind(key) + "/v1/" + std::string(ProductName(product)) + "/crl";
}

std::string KdsClient::CachePath(const std::string& url) const {
  if (cache_dir_.empty()) return "";
  return cache_dir_ + "/" + HexEncode(Sha256(AsBytes(url))) + ".bin";
}

Result<Bytes> KdsClient::Get(const std::string& url) {
  std::string path = CachePath(url);
  if (!path.empty()) {
    auto cached = ReadFile(path, 1 << 20);
    if (cached.ok() && !cached->empty()) return cached;
  }
  if (http_ == nullptr) {
    return NotFound("not in the KDS cache and fetching is not allowed: " + url);
  }
  HttpRequest req;
  req.url = url;
  req.max_response_bytes = 1 << 20;
  CVM_ASSIGN_OR_RETURN(HttpResponse resp, http_->Send(req).WithContext("AMD KDS"));
  if (resp.status == 404) return NotFound("AMD KDS has no such document (404): " + url);
  if (resp.status == 429) {
    std::string after = resp.Header("retry-after");
    return Unavailable("AMD KDS rate limit (429)" +
                       (after.empty() ? std::string() : ", retry after " + after + " s") + ": " +
                       url);
  }
  if (resp.status != 200) {
    return Unavailable("AMD KDS answered HTTP " + std::to_string(resp.status) + ": " + url);
  }
  if (!path.empty()) {
    // A cache that cannot be written is not a reason to fail the fetch.
    if (MakeDirs(cache_dir_, 0755).ok()) (void)WriteFileAtomic(path, resp.body, 0644);
  }
  return resp.body;
}

Result<KdsCerts> FetchVcek(KdsClient& kds, const Report& report, Product product,
                           std::string_view base) {
  if (product == Product::kUnknown) {
    return InvalidInput("cannot build a KDS URL without the product (Milan, Genoa, Turin)");
  }
  if (report.Signer().mask_chip_id || IsAllZero(report.chip_id)) {
    return InvalidInput("the report's CHIP_ID is masked: KDS cannot look the VCEK up");
  }
  CVM_ASSIGN_OR_RETURN(Bytes vcek_der, kds.Get(VcekUrl(report, product, base)));
  CVM_ASSIGN_OR_RETURN(Bytes chain_pem, kds.Get(CertChainUrl(product, SigningKey::kVcek, base)));
  auto vcek = ParseCertificates(vcek_der);
  if (!vcek.ok()) return vcek.status().WithContext("KDS VCEK");
  auto chain = ParseCertificates(chain_pem);
  if (!chain.ok()) return chain.status().WithContext("KDS cert_chain");
  return KdsCerts{(*vcek)[0], *chain};
}

Result<std::vector<Certificate>> EndorsementCerts(const std::vector<CertTableEntry>& host,
                                                  KdsClient* kds, const Report& report,
                                                  Product product) {
  CertKind leaf =
      report.Signer().signing_key == SigningKey::kVlek ? CertKind::kVlek : CertKind::kVcek;
  if (FindCert(host, leaf) != nullptr) {
    std::vector<Certificate> out;
    for (const auto& e : host) {
      if (e.kind == CertKind::kCrl || e.kind == CertKind::kOther) continue;
      auto c = Certificate::FromDer(e.data);
      if (!c.ok())
        return c.status().WithContext("host certificate " + std::string(CertKindName(e.kind)));
      out.push_back(*c);
    }
    return out;
  }
  if (kds == nullptr) {
    return NotFound("the host supplied no " + std::string(CertKindName(leaf)) +
                    " and AMD KDS is not to be used");
  }
  if (leaf == CertKind::kVlek) {
    return NotFound("the host supplied no VLEK, and KDS serves VLEKs only to cloud providers");
  }
  CVM_ASSIGN_OR_RETURN(KdsCerts certs, FetchVcek(*kds, report, product));
  std::vector<Certificate> out = {certs.vcek};
  out.insert(out.end(), certs.chain.begin(), certs.chain.end());
  return out;
}

}  // namespace cvm::snp
