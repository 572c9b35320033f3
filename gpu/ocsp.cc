// OCSP through OpenSSL: request building, response parsing and signature/chain verification are
// OpenSSL's (OCSP_*); this file only drives them, checks the times against the injected clock
// and caches the outcome.
#include "gpu/ocsp.h"

#include <openssl/ocsp.h>
#include <openssl/x509_vfy.h>

#include "common/encoding.h"
#include "gpu/roots.h"

namespace cvm::gpu {
namespace {

using OcspRequest = std::unique_ptr<OCSP_REQUEST, ossl::Deleter<OCSP_REQUEST_free>>;
using OcspResponse = std::unique_ptr<OCSP_RESPONSE, ossl::Deleter<OCSP_RESPONSE_free>>;
using OcspBasic = std::unique_ptr<OCSP_BASICRESP, ossl::Deleter<OCSP_BASICRESP_free>>;
using OcspCertId = std::unique_ptr<OCSP_CERTID, ossl::Deleter<OCSP_CERTID_free>>;
// sk_X509_free is a macro in OpenSSL 3: a deleter of our own. Frees the stack, not the
// certificates (the Certificate objects own them).
struct X509StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};
using X509Stack = std::unique_ptr<STACK_OF(X509), X509StackFree>;

constexpr auto kSkew = std::chrono::minutes(5);
constexpr auto kNoNextUpdate = std::chrono::hours(1);

std::string Key(const Certificate& cert, const Certificate& issuer) {
  return HexEncode(issuer.Fingerprint(DigestAlg::kSha256)) + ":" + cert.SerialHex();
}

// What one certificate's answer says: the outcome (good or a reason) and until when it holds.
struct Answer {
  bool good = false;
  std::string status;
  TimePoint until;
};

Result<Answer> AskOne(const Certificate& cert, const Certificate& issuer,
                      const std::vector<Certificate>& chain, const OcspOptions& o) {
  const std::string name = "OCSP for " + cert.CommonName();
  // SHA-384 CertID, as NVIDIA's Python verifier sends (its responder answers both).
  OcspCertId id(OCSP_cert_to_id(EVP_sha384(), cert.get(), issuer.get()));
  if (!id) return Internal(name + ": OCSP_cert_to_id failed");
  OcspRequest req(OCSP_REQUEST_new());
  if (!req) return Internal(name + ": OCSP_REQUEST_new failed");
  OCSP_CERTID* owned = OCSP_CERTID_dup(id.get());
  if (owned == nullptr || OCSP_request_add0_id(req.get(), owned) == nullptr) {
    OCSP_CERTID_free(owned);
    return Internal(name + ": cannot build the request");
  }
  if (OCSP_request_add1_nonce(req.get(), nullptr, -1) != 1) {
    return Internal(name + ": cannot add a nonce");
  }
  unsigned char* der = nullptr;
  int der_len = i2d_OCSP_REQUEST(req.get(), &der);
  if (der_len <= 0) return Internal(name + ": cannot encode the request");
  HttpRequest http;
  http.method = "POST";
  http.url = o.url;
  http.headers = {{"Content-Type", "application/ocsp-request"},
                  {"Accept", "application/ocsp-response"}};
  http.body.assign(der, der + der_len);
  OPENSSL_free(der);
  http.max_response_bytes = 64 << 10;
  CVM_ASSIGN_OR_RETURN(HttpResponse resp, o.http->Send(http).WithContext(name));
  if (resp.status != 200) {
    return Unavailable(name + ": HTTP status " + std::to_string(resp.status));
  }

  Answer a;
  auto reject = [&](std::string why) {
    a.good = false;
    a.status = name + ": " + std::move(why);
    a.until = o.at;  // a bad answer is not cached
    return a;
  };
  const unsigned char* p = resp.body.data();
  OcspResponse parsed(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(resp.body.size())));
  if (!parsed) return reject("the answer is not an OCSP response");
  int rs = OCSP_response_status(parsed.get());
  if (rs != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    return reject(std::string("the responder answered ") + OCSP_response_status_str(rs));
  }
  OcspBasic basic(OCSP_response_get1_basic(parsed.get()));
  if (!basic) return reject("the answer has no basic response");
  if (OCSP_check_nonce(req.get(), basic.get()) != 1) {
    return reject("the answer does not echo the request's nonce");
  }
  // The responder's signature and chain, to the anchors at the injected time.
  ossl::X509Store store(X509_STORE_new());
  if (!store) return Internal(name + ": X509_STORE_new failed");
  const std::vector<Certificate> builtin = {DeviceIdentityRoot()};
  for (const auto& anchor : o.anchors.empty() ? builtin : o.anchors) {
    if (X509_STORE_add_cert(store.get(), anchor.get()) != 1) {
      return Internal(name + ": cannot add a trust anchor");
    }
  }
  X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store.get()),
                             std::chrono::system_clock::to_time_t(o.at));
  X509Stack untrusted(sk_X509_new_null());
  if (!untrusted) return Internal(name + ": sk_X509_new_null failed");
  for (const auto& c : chain) {
    if (sk_X509_push(untrusted.get(), c.get()) <= 0) return Internal(name + ": sk_X509_push");
  }
  if (OCSP_basic_verify(basic.get(), untrusted.get(), store.get(), 0) != 1) {
    return reject("the answer's signature or its signer's chain does not verify");
  }
  int status = -1, reason = -1;
  ASN1_GENERALIZEDTIME *revoked_at = nullptr, *this_update = nullptr, *next_update = nullptr;
  if (OCSP_resp_find_status(basic.get(), id.get(), &status, &reason, &revoked_at, &this_update,
                            &next_update) != 1) {
    return reject("the answer does not cover the certificate");
  }
  auto tu = FromAsn1Time(this_update);
  if (!tu.ok()) return reject("thisUpdate does not parse");
  if (IsAfter(*tu, o.at + kSkew)) return reject("the answer is from the future (thisUpdate)");
  a.until = o.at + kNoNextUpdate;
  if (next_update != nullptr) {
    auto nu = FromAsn1Time(next_update);
    if (!nu.ok()) return reject("nextUpdate does not parse");
    if (IsBefore(*nu, o.at - kSkew)) return reject("the answer has expired (nextUpdate)");
    if (IsBefore(*nu, a.until)) a.until = std::chrono::time_point_cast<TimePoint::duration>(*nu);
  }
  if (status == V_OCSP_CERTSTATUS_GOOD) {
    a.good = true;
    a.status = "good";
  } else if (status == V_OCSP_CERTSTATUS_REVOKED) {
    std::string why = OCSP_crl_reason_str(reason);
    a.good = o.allow_hold && reason == OCSP_REVOKED_STATUS_CERTIFICATEHOLD;
    a.status = a.good ? "on hold (accepted)" : name + ": revoked (" + why + ")";
  } else {
    a.status = name + ": status unknown to the responder";
  }
  return a;
}

}  // namespace

bool OcspCache::Find(const std::string& key, TimePoint at, Entry* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || at >= it->second.until) return false;
  *out = it->second;
  return true;
}

void OcspCache::Put(const std::string& key, Entry entry) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_[key] = std::move(entry);
}

size_t OcspCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

Result<std::vector<std::string>> CheckChainOcsp(const std::vector<Certificate>& chain,
                                                const OcspOptions& o) {
  if (o.http == nullptr) return InvalidInput("OCSP: no HTTP client");
  if (o.at == TimePoint{}) return InvalidInput("OCSP: no verification time given");
  std::vector<std::string> reasons;
  for (size_t i = 1; i + 1 < chain.size(); ++i) {
    const Certificate& cert = chain[i];
    const Certificate& issuer = chain[i + 1];
    std::string key = Key(cert, issuer);
    OcspCache::Entry hit;
    if (o.cache != nullptr && o.cache->Find(key, o.at, &hit)) {
      if (!hit.good) reasons.push_back(hit.status);
      continue;
    }
    CVM_ASSIGN_OR_RETURN(Answer a, AskOne(cert, issuer, chain, o));
    if (!a.good) reasons.push_back(a.status);
    if (o.cache != nullptr && a.until > o.at) o.cache->Put(key, {a.status, a.good, a.until});
  }
  return reasons;
}

}  // namespace cvm::gpu
