#include "snp/vcek.h"

#include <openssl/asn1.h>

#include "common/ossl.h"

namespace cvm::snp {
namespace {

using Asn1Integer = std::unique_ptr<ASN1_INTEGER, ossl::Deleter<ASN1_INTEGER_free>>;
using Asn1Ia5 = std::unique_ptr<ASN1_IA5STRING, ossl::Deleter<ASN1_IA5STRING_free>>;

Result<std::optional<uint8_t>> ReadSpl(const Certificate& cert, const char* oid,
                                       std::string_view name) {
  auto ext = cert.Extension(oid);
  if (!ext) return std::optional<uint8_t>();
  auto v = DecodeDerInteger(*ext);
  if (!v.ok()) return v.status().WithContext(std::string(name) + " (" + oid + ")");
  if (*v < 0 || *v > 255) {
    return InvalidInput(std::string(name) + " (" + oid + "): " + std::to_string(*v) +
                        " is outside 0..255");
  }
  return std::optional<uint8_t>(static_cast<uint8_t>(*v));
}

}  // namespace

Bytes EncodeDerInteger(int64_t v) {
  Asn1Integer i(ASN1_INTEGER_new());
  ASN1_INTEGER_set_int64(i.get(), v);
  unsigned char* out = nullptr;
  int n = i2d_ASN1_INTEGER(i.get(), &out);
  Bytes der(out, out + (n > 0 ? n : 0));
  OPENSSL_free(out);
  return der;
}

Bytes EncodeDerIa5String(std::string_view s) {
  Asn1Ia5 str(ASN1_IA5STRING_new());
  ASN1_STRING_set(str.get(), s.data(), static_cast<int>(s.size()));
  unsigned char* out = nullptr;
  int n = i2d_ASN1_IA5STRING(str.get(), &out);
  Bytes der(out, out + (n > 0 ? n : 0));
  OPENSSL_free(out);
  return der;
}

Result<int64_t> DecodeDerInteger(ByteSpan der) {
  const unsigned char* p = der.data();
  Asn1Integer i(d2i_ASN1_INTEGER(nullptr, &p, static_cast<long>(der.size())));  // NOLINT
  int64_t v = 0;
  if (!i || p != der.data() + der.size() || ASN1_INTEGER_get_int64(&v, i.get()) != 1) {
    ossl::ClearErrors();
    return InvalidInput("not a DER INTEGER");
  }
  return v;
}

Result<std::string> DecodeDerIa5String(ByteSpan der) {
  const unsigned char* p = der.data();
  Asn1Ia5 s(d2i_ASN1_IA5STRING(nullptr, &p, static_cast<long>(der.size())));  // NOLINT
  if (!s || p != der.data() + der.size()) {
    ossl::ClearErrors();
    return InvalidInput("not a DER IA5String");
  }
  const uint8_t* d = ASN1_STRING_get0_data(s.get());
  return std::string(reinterpret_cast<const char*>(d),
                     static_cast<size_t>(ASN1_STRING_length(s.get())));
}

Result<EndorsementInfo> ReadEndorsementInfo(const Certificate& cert) {
  EndorsementInfo info;
  if (auto ext = cert.Extension(kOidStructVersion)) {
    auto v = DecodeDerInteger(*ext);
    if (!v.ok()) return v.status().WithContext("VCEK structVersion");
    info.struct_version = *v;
  }
  if (auto ext = cert.Extension(kOidProductName)) {
    auto v = DecodeDerIa5String(*ext);
    if (!v.ok()) return v.status().WithContext("VCEK productName");
    info.product_name = *v;
    auto p = ParseProduct(info.product_name);
    if (!p.ok()) return p.status().WithContext("VCEK productName");
    info.product = *p;
  } else {
    // Older certificates: the issuer is "SEV-<product>" or "SEV-VLEK-<product>".
    std::string issuer = cert.Issuer();
    size_t at = issuer.find("CN=SEV-");
    if (at != std::string::npos) {
      std::string cn = issuer.substr(at + 7);
      cn = cn.substr(0, cn.find(','));
      if (cn.rfind("VLEK-", 0) == 0) cn = cn.substr(5);
      if (auto p = ParseProduct(cn); p.ok()) info.product = *p;
    }
  }
  CVM_ASSIGN_OR_RETURN(info.bl_spl, ReadSpl(cert, kOidBlSpl, "blSPL"));
  CVM_ASSIGN_OR_RETURN(info.tee_spl, ReadSpl(cert, kOidTeeSpl, "teeSPL"));
  CVM_ASSIGN_OR_RETURN(info.snp_spl, ReadSpl(cert, kOidSnpSpl, "snpSPL"));
  CVM_ASSIGN_OR_RETURN(info.ucode_spl, ReadSpl(cert, kOidUcodeSpl, "ucodeSPL"));
  CVM_ASSIGN_OR_RETURN(info.fmc_spl, ReadSpl(cert, kOidFmcSpl, "fmcSPL"));
  if (auto ext = cert.Extension(kOidHwId)) {
    Bytes hw = *ext;
    // Some issuers wrap the ID in an OCTET STRING (04 len ...); AMD does not. Accept both.
    if ((hw.size() == 66 && hw[0] == 0x04 && hw[1] == 64) ||
        (hw.size() == 10 && hw[0] == 0x04 && hw[1] == 8)) {
      hw.erase(hw.begin(), hw.begin() + 2);
    }
    if (hw.size() != 64 && hw.size() != 8) {
      return InvalidInput("VCEK hwID (" + std::string(kOidHwId) + "): " +
                          std::to_string(hw.size()) + " bytes, expected 64 (or 8 on Turin)");
    }
    info.hwid = std::move(hw);
  }
  if (auto ext = cert.Extension(kOidCspId)) {
    auto v = DecodeDerIa5String(*ext);
    if (!v.ok()) return v.status().WithContext("VLEK cspId");
    info.csp_id = *v;
  }
  return info;
}

}  // namespace cvm::snp
