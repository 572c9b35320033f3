#include "tdx/quote.h"

#include <algorithm>
#include <string>

#include "common/encoding.h"

namespace cvm::tdx {
namespace {

Bytes Slice(ByteSpan b, size_t off, size_t n) { return ToBytes(b.subspan(off, n)); }

void Append(Bytes& out, ByteSpan b) { out.insert(out.end(), b.begin(), b.end()); }

Result<QuoteHeader> ParseHeader(ByteReader& r) {
  QuoteHeader h;
  CVM_ASSIGN_OR_RETURN(h.version, r.U16("version"));
  if (h.version != 4 && h.version != 5) {
    return Unsupported("tdx quote: version " + std::to_string(h.version) +
                       " is not supported (expected 4 or 5)");
  }
  CVM_ASSIGN_OR_RETURN(h.att_key_type, r.U16("attestation key type"));
  if (h.att_key_type != kAttKeyTypeEcdsaP256) {
    return Unsupported("tdx quote: attestation key type " + std::to_string(h.att_key_type) +
                       " is not supported (expected 2, ECDSA-P256)");
  }
  CVM_ASSIGN_OR_RETURN(h.tee_type, r.U32("tee type"));
  if (h.tee_type != kTeeTypeTdx) {
    return Unsupported("tdx quote: tee type " + std::to_string(h.tee_type) + " is not TDX (0x81)");
  }
  CVM_ASSIGN_OR_RETURN(h.pce_svn, r.U16("pce svn"));
  CVM_ASSIGN_OR_RETURN(h.qe_svn, r.U16("qe svn"));
  CVM_ASSIGN_OR_RETURN(ByteSpan vendor, r.Take(16, "qe vendor id"));
  if (!std::equal(vendor.begin(), vendor.end(), kIntelQeVendorId.begin(), kIntelQeVendorId.end())) {
    return Unsupported("tdx quote: qe vendor id " + HexEncode(vendor) +
                       " is not Intel's quoting enclave (939a7233f79c4ca9940a0db3957f0607)");
  }
  CVM_ASSIGN_OR_RETURN(ByteSpan user, r.Take(20, "user data"));
  h.qe_vendor_id = ToBytes(vendor);
  h.user_data = ToBytes(user);
  return h;
}

Result<ByteSpan> ParseCertData(ByteReader& r, uint16_t* type) {
  CVM_ASSIGN_OR_RETURN(*type, r.U16("certification data type"));
  CVM_ASSIGN_OR_RETURN(uint32_t size, r.U32("certification data size"));
  return r.Take(size, "certification data");
}

}  // namespace

Result<TdQuoteBody> ParseBody(ByteSpan b) {
  if (b.size() != kTd10BodySize && b.size() != kTd15BodySize) {
    return InvalidInput("tdx quote body: size " + std::to_string(b.size()) +
                        " is neither 584 (TD 1.0) nor 648 (TD 1.5)");
  }
  TdQuoteBody body;
  body.tee_tcb_svn = Slice(b, 0, 16);
  body.mrseam = Slice(b, 16, 48);
  body.mrsignerseam = Slice(b, 64, 48);
  body.seam_attributes = Slice(b, 112, 8);
  body.td_attributes = Slice(b, 120, 8);
  body.xfam = Slice(b, 128, 8);
  body.mrtd = Slice(b, 136, 48);
  body.mrconfigid = Slice(b, 184, 48);
  body.mrowner = Slice(b, 232, 48);
  body.mrownerconfig = Slice(b, 280, 48);
  for (size_t i = 0; i < 4; ++i) body.rtmr[i] = Slice(b, 328 + 48 * i, 48);
  body.report_data = Slice(b, 520, 64);
  if (b.size() == kTd15BodySize) {
    body.tee_tcb_svn2 = Slice(b, 584, 16);
    body.mrservicetd = Slice(b, 600, 48);
  }
  return body;
}

Bytes EncodeBody(const TdQuoteBody& b) {
  Bytes out;
  out.reserve(kTd15BodySize);
  for (const Bytes* f :
       {&b.tee_tcb_svn, &b.mrseam, &b.mrsignerseam, &b.seam_attributes, &b.td_attributes, &b.xfam,
        &b.mrtd, &b.mrconfigid, &b.mrowner, &b.mrownerconfig, &b.rtmr[0], &b.rtmr[1], &b.rtmr[2],
        &b.rtmr[3], &b.report_data}) {
    Append(out, *f);
  }
  if (b.tee_tcb_svn2 && b.mrservicetd) {
    Append(out, *b.tee_tcb_svn2);
    Append(out, *b.mrservicetd);
  }
  return out;
}

Result<QeReport> ParseQeReport(ByteSpan b) {
  if (b.size() != kQeReportSize) {
    return InvalidInput("qe report: size " + std::to_string(b.size()) + ", expected 384");
  }
  QeReport q;
  q.cpu_svn = Slice(b, 0, 16);
  q.miscselect = LoadLe32(b, 16);
  q.attributes = Slice(b, 48, 16);
  q.mrenclave = Slice(b, 64, 32);
  q.mrsigner = Slice(b, 128, 32);
  q.isv_prod_id = LoadLe16(b, 256);
  q.isv_svn = LoadLe16(b, 258);
  q.report_data = Slice(b, 320, 64);
  q.raw = ToBytes(b);
  return q;
}

Result<QeCertificationData> ParseQeCertificationData(ByteSpan data) {
  ByteReader r(data, "qe certification data");
  QeCertificationData c;
  CVM_ASSIGN_OR_RETURN(ByteSpan report, r.Take(kQeReportSize, "qe report"));
  CVM_ASSIGN_OR_RETURN(c.qe_report, ParseQeReport(report));
  CVM_ASSIGN_OR_RETURN(ByteSpan sig, r.Take(kEcdsaP256SigSize, "qe report signature"));
  c.qe_report_signature = ToBytes(sig);
  CVM_ASSIGN_OR_RETURN(uint16_t auth_len, r.U16("qe auth data size"));
  CVM_ASSIGN_OR_RETURN(ByteSpan auth, r.Take(auth_len, "qe auth data"));
  c.qe_auth_data = ToBytes(auth);
  CVM_ASSIGN_OR_RETURN(ByteSpan pck, ParseCertData(r, &c.pck_cert_data_type));
  c.pck_cert_data = ToBytes(pck);
  // Bytes after the nested certification data are not covered by any signature and are
  // ignored, like the padding after a quote.
  if (c.pck_cert_data_type != kCertDataPckChain) {
    return Unsupported("qe certification data: pck certification data type " +
                       std::to_string(c.pck_cert_data_type) +
                       " is not supported (expected 5, PCK certificate chain)");
  }
  return c;
}

Result<Quote> ParseQuote(ByteSpan data) {
  ByteReader r(data, "tdx quote");
  Quote q;
  CVM_ASSIGN_OR_RETURN(q.header, ParseHeader(r));
  size_t body_size = kTd10BodySize;
  if (q.header.version == 5) {
    CVM_ASSIGN_OR_RETURN(q.body_type, r.U16("body type"));
    CVM_ASSIGN_OR_RETURN(uint32_t size, r.U32("body size"));
    if (q.body_type == 1) {
      return Unsupported("tdx quote: body type 1 (SGX enclave report) is not a TD quote");
    }
    if (q.body_type != kBodyTypeTd10 && q.body_type != kBodyTypeTd15) {
      return InvalidInput("tdx quote: unknown body type " + std::to_string(q.body_type));
    }
    body_size = q.body_type == kBodyTypeTd10 ? kTd10BodySize : kTd15BodySize;
    if (size != body_size) {
      return InvalidInput("tdx quote: body size " + std::to_string(size) +
                          " does not match body type " + std::to_string(q.body_type) + " (" +
                          std::to_string(body_size) + ")");
    }
  }
  CVM_ASSIGN_OR_RETURN(ByteSpan body, r.Take(body_size, "body"));
  CVM_ASSIGN_OR_RETURN(q.body, ParseBody(body));
  q.signed_data = ToBytes(data.first(r.offset()));
  CVM_ASSIGN_OR_RETURN(uint32_t sig_len, r.U32("signature data size"));
  CVM_ASSIGN_OR_RETURN(ByteSpan sig_data, r.Take(sig_len, "signature data"));
  q.size = r.offset();

  ByteReader s(sig_data, "tdx quote signature data");
  CVM_ASSIGN_OR_RETURN(ByteSpan sig, s.Take(kEcdsaP256SigSize, "quote signature"));
  CVM_ASSIGN_OR_RETURN(ByteSpan key, s.Take(kEcdsaP256KeySize, "attestation key"));
  q.signature = ToBytes(sig);
  q.attestation_key = ToBytes(key);
  uint16_t type = 0;
  CVM_ASSIGN_OR_RETURN(ByteSpan cert, ParseCertData(s, &type));
  if (type != kCertDataQeReport) {
    return Unsupported("tdx quote: certification data type " + std::to_string(type) +
                       " is not supported (expected 6, QE report certification data)");
  }
  auto cd = ParseQeCertificationData(cert);
  if (!cd.ok()) return cd.status().WithContext("tdx quote");
  q.certification = std::move(*cd);
  return q;
}

}  // namespace cvm::tdx
