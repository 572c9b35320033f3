// Intel TDX DCAP quotes, versions 4 and 5 (ECDSA-P256 attestation key): byte layout and parser.
//
// Layout (Intel TDX DCAP Quote Generation/Verification Library, sgx_quote_4.h / sgx_quote_5.h;
// go-tdx-guest abi/abi.go). All integers little-endian.
//   Header (48 B): 0 version u16 (4|5), 2 att_key_type u16 (2 = ECDSA-P256), 4 tee_type u32
//     (0x81 = TDX), 8 pce_svn u16, 10 qe_svn u16, 12 qe_vendor_id[16], 28 user_data[20].
//   v4: body (TD 1.0 report body, 584 B) at 48.
//   v5: 48 body_type u16 (2 = TD 1.0, 3 = TD 1.5), 50 body_size u32, body at 54.
//   Then u32 signature_data_len and the signature data:
//     sig[64] (r||s big-endian over header..end of body), attestation_key[64] (X||Y),
//     certification data {u16 type = 6, u32 size, QE report certification data}.
//   QE report certification data: qe_report[384], qe_report_signature[64] (by the PCK key),
//     u16 auth_len, qe_auth_data[auth_len], certification data {u16 type = 5, u32 size, PEM chain}.
// Bytes after the signature data are ignored: real quotes are padded (configfs, IMDS buffers).
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "common/bytes.h"
#include "common/status.h"

namespace cvm::tdx {

inline constexpr size_t kQuoteHeaderSize = 48;
inline constexpr size_t kTd10BodySize = 584;
inline constexpr size_t kTd15BodySize = 648;
inline constexpr size_t kQeReportSize = 384;
inline constexpr size_t kEcdsaP256SigSize = 64;
inline constexpr size_t kEcdsaP256KeySize = 64;
inline constexpr uint16_t kAttKeyTypeEcdsaP256 = 2;
inline constexpr uint32_t kTeeTypeTdx = 0x81;
inline constexpr uint16_t kBodyTypeTd10 = 2;
inline constexpr uint16_t kBodyTypeTd15 = 3;
inline constexpr uint16_t kCertDataPckChain = 5;
inline constexpr uint16_t kCertDataQeReport = 6;
// The QE vendor ID of Intel's quoting enclave, 939A7233-F79C-4CA9-940A-0DB3957F0607 (sgx_quote.h,
// Intel QVL QuoteConstants.h): the only QE whose identity and TCB collateral we can verify.
inline constexpr std::array<uint8_t, 16> kIntelQeVendorId = {
    0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};
// Offset of the body in a v4 quote and of the body descriptor in a v5 quote.
inline constexpr size_t kQuoteBodyOffset = 48;
inline constexpr size_t kQuoteV5BodyOffset = 54;

struct QuoteHeader {
  uint16_t version = 0;
  uint16_t att_key_type = 0;
  uint32_t tee_type = 0;
  uint16_t pce_svn = 0;
  uint16_t qe_svn = 0;
  Bytes qe_vendor_id;  // 16
  Bytes user_data;     // 20
};

// The TD report body carried in a quote (sgx_report2_body_t; TD 1.5 adds two fields).
struct TdQuoteBody {
  Bytes tee_tcb_svn;                  // 16
  Bytes mrseam;                       // 48
  Bytes mrsignerseam;                 // 48
  Bytes seam_attributes;              // 8
  Bytes td_attributes;                // 8
  Bytes xfam;                         // 8
  Bytes mrtd;                         // 48
  Bytes mrconfigid;                   // 48
  Bytes mrowner;                      // 48
  Bytes mrownerconfig;                // 48
  std::array<Bytes, 4> rtmr;          // 48 each
  Bytes report_data;                  // 64
  std::optional<Bytes> tee_tcb_svn2;  // 16, body type 3 only
  std::optional<Bytes> mrservicetd;   // 48, body type 3 only

  uint64_t TdAttributes() const { return LoadLe64(td_attributes, 0); }
  uint64_t Xfam() const { return LoadLe64(xfam, 0); }
};

// The SGX REPORT body of the quoting enclave (384 bytes).
struct QeReport {
  Bytes cpu_svn;             // 16 @0
  uint32_t miscselect = 0;   // @16
  Bytes attributes;          // 16 @48
  Bytes mrenclave;           // 32 @64
  Bytes mrsigner;            // 32 @128
  uint16_t isv_prod_id = 0;  // @256
  uint16_t isv_svn = 0;      // @258
  Bytes report_data;         // 64 @320
  Bytes raw;                 // all 384 bytes (what the PCK key signs)
};

struct QeCertificationData {
  QeReport qe_report;
  Bytes qe_report_signature;  // 64, r||s
  Bytes qe_auth_data;
  uint16_t pck_cert_data_type = 0;  // 5 for a PCK chain
  Bytes pck_cert_data;              // PEM: leaf, intermediate CA, root CA
};

struct Quote {
  QuoteHeader header;
  uint16_t body_type = kBodyTypeTd10;  // v4 quotes always carry a TD 1.0 body
  TdQuoteBody body;
  Bytes signed_data;  // header (and v5 body descriptor) and body: what the quote signature covers
  Bytes signature;    // 64, r||s
  Bytes attestation_key;  // 64, X||Y
  QeCertificationData certification;
  size_t size = 0;  // bytes used; the input may be longer
};

// Parses a v4 or v5 TDX quote. Returns kInvalidInput naming the field for truncated or malformed
// input, kUnsupported for a well-formed quote of another kind (SGX, another key type, other
// certification data). Trailing bytes after the signature data are ignored.
Result<Quote> ParseQuote(ByteSpan data);

// Parses the QE report certification data (certification data type 6). kInvalidInput on any
// inconsistency; bytes after the nested certification data are ignored.
Result<QeCertificationData> ParseQeCertificationData(ByteSpan data);

// Parses a 384-byte SGX report body.
Result<QeReport> ParseQeReport(ByteSpan data);

// The 584 (TD 1.0) or 648 (TD 1.5) byte encoding of a body. REQUIRES: field sizes as documented.
Bytes EncodeBody(const TdQuoteBody& body);
// Parses a TD quote body of 584 or 648 bytes.
Result<TdQuoteBody> ParseBody(ByteSpan data);

}  // namespace cvm::tdx
