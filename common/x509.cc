#include "common/x509.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstring>
#include <ctime>
#include <functional>

#include "common/encoding.h"

namespace cvm {
namespace {

std::string NameToString(const X509_NAME* name) {
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return "";
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);  // NOLINT(google-runtime-int)
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

ossl::Asn1Time ToAsn1Time(TimePoint t) {
  return ossl::Asn1Time(ASN1_TIME_set(nullptr, std::chrono::system_clock::to_time_t(t)));
}

bool LooksLikePem(ByteSpan data) {
  return AsChars(data).find("-----BEGIN") != std::string_view::npos;
}

}  // namespace

Result<CertTime> FromAsn1Time(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    ossl::ClearErrors();
    return InvalidInput("malformed ASN.1 time in certificate or CRL");
  }
  // Civil-to-days arithmetic in std::chrono (no time_t, no nanoseconds): exact for year 0-9999.
  namespace chr = std::chrono;
  chr::year_month_day ymd{chr::year(tm.tm_year + 1900),
                          chr::month(static_cast<unsigned>(tm.tm_mon + 1)),
                          chr::day(static_cast<unsigned>(tm.tm_mday))};
  if (!ymd.ok()) return InvalidInput("invalid date in certificate or CRL time");
  return CertTime(chr::sys_days(ymd)) + chr::hours(tm.tm_hour) + chr::minutes(tm.tm_min) +
         chr::seconds(tm.tm_sec);
}

// A TimePoint has nanosecond resolution and a certificate time whole seconds, so t < at exactly
// when t < ceil(at), and t > at exactly when t > floor(at). Rounding a TimePoint to seconds
// cannot overflow.
bool IsBefore(CertTime t, TimePoint at) { return t < std::chrono::ceil<std::chrono::seconds>(at); }
bool IsAfter(CertTime t, TimePoint at) { return t > std::chrono::floor<std::chrono::seconds>(at); }

Certificate::Certificate(ossl::X509Ptr x) : x_(std::move(x)) {}

Certificate::Certificate(const Certificate& other) : x_(nullptr) {
  X509_up_ref(other.x_.get());
  x_.reset(other.x_.get());
}

Certificate& Certificate::operator=(const Certificate& other) {
  if (this != &other) {
    X509_up_ref(other.x_.get());
    x_.reset(other.x_.get());
  }
  return *this;
}

Result<Certificate> Certificate::FromDer(ByteSpan der) {
  const unsigned char* p = der.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));  // NOLINT(google-runtime-int)
  if (x == nullptr) return ossl::Error("not a DER X.509 certificate", Code::kInvalidInput);
  if (p != der.data() + der.size()) {
    X509_free(x);
    return InvalidInput("DER certificate has " + std::to_string(der.data() + der.size() - p) +
                        " trailing bytes");
  }
  return Certificate(ossl::X509Ptr(x));
}

Result<Certificate> Certificate::FromPem(std::string_view pem) {
  CVM_ASSIGN_OR_RETURN(auto certs, ParseCertificates(AsBytes(pem)));
  return certs.front();
}

std::string Certificate::Subject() const { return NameToString(X509_get_subject_name(x_.get())); }
std::string Certificate::Issuer() const { return NameToString(X509_get_issuer_name(x_.get())); }

std::string Certificate::CommonName() const {
  const X509_NAME* name = X509_get_subject_name(x_.get());
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return "";
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

Result<CertTime> Certificate::NotBefore() const {
  return FromAsn1Time(X509_get0_notBefore(x_.get()));
}
Result<CertTime> Certificate::NotAfter() const {
  return FromAsn1Time(X509_get0_notAfter(x_.get()));
}

std::string Certificate::SerialHex() const {
  ossl::Bn bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x_.get()), nullptr));
  if (!bn) return "";
  Bytes b(static_cast<size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), b.data());
  return b.empty() ? "00" : HexEncode(b);
}

Result<ossl::PKey> Certificate::PublicKey() const {
  EVP_PKEY* key = X509_get_pubkey(x_.get());
  if (key == nullptr) return ossl::Error("certificate public key", Code::kInvalidInput);
  return ossl::PKey(key);
}

Bytes Certificate::Der() const {
  int n = i2d_X509(x_.get(), nullptr);
  if (n <= 0) return {};
  Bytes out(static_cast<size_t>(n));
  unsigned char* p = out.data();
  i2d_X509(x_.get(), &p);
  return out;
}

std::string Certificate::Pem() const {
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), x_.get()) != 1) return "";
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);  // NOLINT(google-runtime-int)
  return std::string(data, static_cast<size_t>(n));
}

Bytes Certificate::Fingerprint(DigestAlg alg) const { return Digest(alg, Der()); }

std::optional<Bytes> Certificate::Extension(std::string_view oid) const {
  ossl::Asn1Object obj(OBJ_txt2obj(std::string(oid).c_str(), 1));
  if (!obj) {
    ossl::ClearErrors();
    return std::nullopt;
  }
  int idx = X509_get_ext_by_OBJ(x_.get(), obj.get(), -1);
  if (idx < 0) return std::nullopt;
  const ASN1_OCTET_STRING* v = X509_EXTENSION_get_data(X509_get_ext(x_.get(), idx));
  const uint8_t* p = ASN1_STRING_get0_data(v);
  return Bytes(p, p + ASN1_STRING_length(v));
}

Result<std::vector<Certificate>> ParseCertificates(ByteSpan data) {
  std::vector<Certificate> out;
  if (!LooksLikePem(data)) {
    CVM_ASSIGN_OR_RETURN(Certificate c, Certificate::FromDer(data));
    out.push_back(std::move(c));
    return out;
  }
  ossl::Bio bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) return ossl::Error("BIO_new_mem_buf");
  while (true) {
    X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (x == nullptr) break;
    out.emplace_back(ossl::X509Ptr(x));
  }
  // The loop ends on "no start line" at the end of input; anything else is a broken block.
  unsigned long err = ERR_peek_last_error();  // NOLINT(google-runtime-int)
  bool clean_end = ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
  if (!clean_end && err != 0) return ossl::Error("malformed PEM certificate", Code::kInvalidInput);
  ossl::ClearErrors();
  if (out.empty()) return InvalidInput("no certificate in PEM input");
  return out;
}

Result<Crl> Crl::Parse(ByteSpan data) {
  X509_CRL* crl = nullptr;
  if (LooksLikePem(data)) {
    ossl::Bio bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
    crl = bio ? PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  } else {
    const unsigned char* p = data.data();
    crl = d2i_X509_CRL(nullptr, &p, static_cast<long>(data.size()));  // NOLINT
  }
  if (crl == nullptr) return ossl::Error("not an X.509 CRL", Code::kInvalidInput);
  return Crl(ossl::X509Crl(crl));
}

std::string Crl::Issuer() const { return NameToString(X509_CRL_get_issuer(crl_.get())); }
Result<CertTime> Crl::ThisUpdate() const {
  return FromAsn1Time(X509_CRL_get0_lastUpdate(crl_.get()));
}
Result<std::optional<CertTime>> Crl::NextUpdate() const {
  const ASN1_TIME* t = X509_CRL_get0_nextUpdate(crl_.get());
  if (t == nullptr) return std::optional<CertTime>();
  CVM_ASSIGN_OR_RETURN(CertTime next, FromAsn1Time(t));
  return std::optional<CertTime>(next);
}

bool Crl::Lists(const Certificate& cert) const {
  X509_REVOKED* revoked = nullptr;
  return X509_CRL_get0_by_serial(crl_.get(), &revoked,
                                 const_cast<ASN1_INTEGER*>(X509_get0_serialNumber(cert.get()))) ==
         1;
}

Bytes Crl::Der() const {
  int n = i2d_X509_CRL(crl_.get(), nullptr);
  if (n <= 0) return {};
  Bytes out(static_cast<size_t>(n));
  unsigned char* p = out.data();
  i2d_X509_CRL(crl_.get(), &p);
  return out;
}

Status VerifyChain(const Certificate& leaf, std::span<const Certificate> intermediates,
                   std::span<const Certificate> anchors, const ChainOptions& options) {
  if (anchors.empty()) return InvalidInput("certificate chain: no trust anchor given");
  if (options.at == TimePoint{}) {
    return InvalidInput("certificate chain: no verification time given (ChainOptions::at)");
  }
  ossl::X509Store store(X509_STORE_new());
  if (!store) return ossl::Error("X509_STORE_new");
  for (const auto& a : anchors) {
    if (X509_STORE_add_cert(store.get(), a.get()) != 1) ossl::ClearErrors();  // duplicates
  }
  for (const auto& crl : options.crls) {
    if (X509_STORE_add_crl(store.get(), crl.get()) != 1) ossl::ClearErrors();
  }
  struct StackFree {
    void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }  // does not free the certs
  };
  std::unique_ptr<STACK_OF(X509), StackFree> untrusted(sk_X509_new_null());
  for (const auto& c : intermediates) sk_X509_push(untrusted.get(), c.get());

  ossl::X509StoreCtx ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted.get()) != 1) {
    return ossl::Error("X509_STORE_CTX_init");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(options.at));
  unsigned long flags = X509_V_FLAG_USE_CHECK_TIME;  // NOLINT(google-runtime-int)
  if (!options.crls.empty()) flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
  if (options.allow_partial_chain) flags |= X509_V_FLAG_PARTIAL_CHAIN;
  X509_VERIFY_PARAM_set_flags(param, flags);

  int rc = X509_verify_cert(ctx.get());
  ossl::ClearErrors();
  if (rc == 1) return Status::Ok();
  int err = X509_STORE_CTX_get_error(ctx.get());
  int depth = X509_STORE_CTX_get_error_depth(ctx.get());
  X509* bad = X509_STORE_CTX_get_current_cert(ctx.get());
  std::string who = bad ? NameToString(X509_get_subject_name(bad)) : "unknown";
  return Rejected("certificate chain: " + std::string(X509_verify_cert_error_string(err)) +
                  " (depth " + std::to_string(depth) + ", " + who + ")");
}

Status VerifyIssuedBy(const Certificate& cert, const Certificate& issuer) {
  CVM_ASSIGN_OR_RETURN(ossl::PKey key, issuer.PublicKey());
  int rc = X509_verify(cert.get(), key.get());
  ossl::ClearErrors();
  if (rc != 1) {
    return Rejected("certificate " + cert.Subject() + " is not signed by " + issuer.Subject());
  }
  return Status::Ok();
}

namespace {

Status SignWithSpec(const EVP_PKEY* key, DigestAlg digest, bool rsa_pss,
                    const std::function<int(EVP_MD_CTX*)>& sign) {
  ossl::MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, EvpMd(digest), nullptr,
                                 const_cast<EVP_PKEY*>(key)) != 1) {
    return ossl::Error("EVP_DigestSignInit");
  }
  if (rsa_pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                  EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
                  EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EvpMd(digest)) != 1)) {
    return ossl::Error("RSA-PSS parameters");
  }
  if (sign(ctx.get()) <= 0) return ossl::Error("signing failed");
  return Status::Ok();
}

Status AddConfExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, issuer, cert, nullptr, nullptr, 0);
  ossl::X509Ext ext(X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) return ossl::Error("certificate extension");
  return Status::Ok();
}

}  // namespace

Result<Certificate> IssueCertificate(const CertSpec& spec, const EVP_PKEY* subject_key,
                                     const Certificate* issuer, const EVP_PKEY* issuer_key) {
  ossl::X509Ptr x(X509_new());
  if (!x || X509_set_version(x.get(), X509_VERSION_3) != 1) return ossl::Error("X509_new");
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(x.get()), spec.serial);
  ossl::Asn1Time nb = ToAsn1Time(spec.not_before);
  ossl::Asn1Time na = ToAsn1Time(spec.not_after);
  X509_set1_notBefore(x.get(), nb.get());
  X509_set1_notAfter(x.get(), na.get());
  X509_NAME* name = X509_get_subject_name(x.get());
  for (const auto& [field, value] : spec.subject) {
    if (X509_NAME_add_entry_by_txt(name, field.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                   0) != 1) {
      return ossl::Error("subject field " + field, Code::kInvalidInput);
    }
  }
  X509_set_issuer_name(x.get(), issuer ? X509_get_subject_name(issuer->get()) : name);
  if (X509_set_pubkey(x.get(), const_cast<EVP_PKEY*>(subject_key)) != 1) {
    return ossl::Error("X509_set_pubkey");
  }
  X509* issuer_x = issuer ? issuer->get() : x.get();
  std::string bc = spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE";
  if (spec.is_ca && spec.path_len) bc += ",pathlen:" + std::to_string(*spec.path_len);
  CVM_RETURN_IF_ERROR(AddConfExtension(x.get(), issuer_x, NID_basic_constraints, bc));
  if (!spec.key_usage.empty()) {
    CVM_RETURN_IF_ERROR(AddConfExtension(x.get(), issuer_x, NID_key_usage, spec.key_usage));
  }
  CVM_RETURN_IF_ERROR(AddConfExtension(x.get(), issuer_x, NID_subject_key_identifier, "hash"));
  if (issuer) {
    CVM_RETURN_IF_ERROR(
        AddConfExtension(x.get(), issuer_x, NID_authority_key_identifier, "keyid:always"));
  }
  for (const auto& e : spec.extensions) {
    ossl::Asn1Object obj(OBJ_txt2obj(e.oid.c_str(), 1));
    ossl::Asn1OctetString os(ASN1_OCTET_STRING_new());
    if (!obj || !os ||
        ASN1_OCTET_STRING_set(os.get(), e.der_value.data(), static_cast<int>(e.der_value.size())) !=
            1) {
      return ossl::Error("extension " + e.oid, Code::kInvalidInput);
    }
    ossl::X509Ext ext(
        X509_EXTENSION_create_by_OBJ(nullptr, obj.get(), e.critical ? 1 : 0, os.get()));
    if (!ext || X509_add_ext(x.get(), ext.get(), -1) != 1) return ossl::Error("X509_add_ext");
  }
  CVM_RETURN_IF_ERROR(SignWithSpec(issuer_key, spec.digest, spec.rsa_pss,
                                   [&](EVP_MD_CTX* ctx) { return X509_sign_ctx(x.get(), ctx); }));
  return Certificate(std::move(x));
}

Result<Crl> IssueCrl(const Certificate& issuer, const EVP_PKEY* issuer_key,
                     std::span<const uint64_t> revoked_serials, TimePoint this_update,
                     TimePoint next_update, DigestAlg digest) {
  ossl::X509Crl crl(X509_CRL_new());
  if (!crl || X509_CRL_set_version(crl.get(), 1) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer.get())) != 1) {
    return ossl::Error("X509_CRL_new");
  }
  ossl::Asn1Time tu = ToAsn1Time(this_update);
  ossl::Asn1Time nu = ToAsn1Time(next_update);
  X509_CRL_set1_lastUpdate(crl.get(), tu.get());
  X509_CRL_set1_nextUpdate(crl.get(), nu.get());
  for (uint64_t serial : revoked_serials) {
    X509_REVOKED* r = X509_REVOKED_new();
    ASN1_INTEGER* s = ASN1_INTEGER_new();
    ASN1_INTEGER_set_uint64(s, serial);
    X509_REVOKED_set_serialNumber(r, s);
    X509_REVOKED_set_revocationDate(r, tu.get());
    ASN1_INTEGER_free(s);
    X509_CRL_add0_revoked(crl.get(), r);
  }
  X509_CRL_sort(crl.get());
  CVM_RETURN_IF_ERROR(SignWithSpec(issuer_key, digest, /*rsa_pss=*/false, [&](EVP_MD_CTX* ctx) {
    return X509_CRL_sign_ctx(crl.get(), ctx);
  }));
  return Crl(std::move(crl));
}

}  // namespace cvm
