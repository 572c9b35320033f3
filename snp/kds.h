// AMD Key Distribution Service (KDS): where VCEKs, AMD's chains and CRLs are published
// (AMD "VCEK Certificate and KDS Interface Specification"; go-sev-guest verify/kds.go;
// virtee/snpguest src/fetch.rs), with an on-disk cache so verification works offline and KDS
// rate limits are rarely hit. Network access goes through the HttpClient seam.
#pragma once

#include <string>
#include <vector>

#include "common/http.h"
#include "common/x509.h"
#include "snp/certs_table.h"
#include "snp/report.h"

namespace cvm::snp {

inline constexpr char kKdsBaseUrl[] = "https://kdsintf.amd.com";

// VCEK: {base}/vcek/v1/{product}/{hwid hex}?blSPL=NN&teeSPL=NN&snpSPL=NN&ucodeSPL=NN, with
// fmcSPL first and the 8-byte hwID on Turin; SPLs from REPORTED_TCB, two digits at least.
// REQUIRES: product != kUnknown.
std::string VcekUrl(const Report& report, Product product, std::string_view base = kKdsBaseUrl);
// {base}/{vcek|vlek}/v1/{product}/cert_chain (PEM: ASK or ASVK, then ARK).
std::string CertChainUrl(Product product, SigningKey key, std::string_view base = kKdsBaseUrl);
// {base}/{vcek|vlek}/v1/{product}/crl (DER, signed by the ARK).
std::string CrlUrl(Product product, SigningKey key, std::string_view base = kKdsBaseUrl);

// Fetches KDS documents through a cache directory. Thread-compatible.
class KdsClient {
 public:
  // `http` nullptr: offline, cache only. `cache_dir` empty: no cache. `http` must outlive this.
  KdsClient(HttpClient* http, std::string cache_dir)
      : http_(http), cache_dir_(std::move(cache_dir)) {}

  // The body of `url`: from the cache when present, else from the network (then cached).
  // kNotFound when offline and not cached, or when KDS answers 404; kUnavailable for other HTTP
  // errors (429 names the rate limit) or no answer.
  Result<Bytes> Get(const std::string& url);
  // The cache file for `url` (sha256 of the URL), or "" without a cache.
  std::string CachePath(const std::string& url) const;

 private:
  HttpClient* http_;
  std::string cache_dir_;
};

struct KdsCerts {
  Certificate vcek;
  std::vector<Certificate> chain;  // ASK, ARK
};

// The VCEK for `report` and its product's chain. Certificates are checked to parse; nothing is
// verified here (verify.h does that).
Result<KdsCerts> FetchVcek(KdsClient& kds, const Report& report, Product product,
                           std::string_view base = kKdsBaseUrl);

// The certificates to verify `report` with: the host's (a certificate table from the extended
// report or configfs-tsm auxblob) when they include the VCEK/VLEK the report names, otherwise the
// VCEK and chain from `kds` (nullptr: none). kInvalidInput when a host entry is not a DER
// certificate; KDS errors otherwise.
Result<std::vector<Certificate>> EndorsementCerts(const std::vector<CertTableEntry>& host,
                                                  KdsClient* kds, const Report& report,
                                                  Product product);

}  // namespace cvm::snp
