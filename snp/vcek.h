// AMD's X.509 extensions on VCEK and VLEK certificates (AMD "Versioned Chip Endorsement Key
// (VCEK) Certificate and KDS Interface Specification"; OIDs under 1.3.6.1.4.1.3704.1):
//   .1 structVersion INTEGER (0 Milan/Genoa, 1 Turin)   .2 productName IA5String ("Milan-B0")
//   .3.1 blSPL  .3.2 teeSPL  .3.3 snpSPL  .3.4-.3.7 spl4-7  .3.8 ucodeSPL  .3.9 fmcSPL (Turin)
//   (each INTEGER)   .4 hwID: raw bytes, 64 (8 on Turin), no DER tag   .5 cspId IA5String (VLEK)
// Reading and encoding them; no signature checks here.
#pragma once

#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/x509.h"
#include "snp/report.h"

namespace cvm::snp {

inline constexpr char kOidStructVersion[] = "1.3.6.1.4.1.3704.1.1";
inline constexpr char kOidProductName[] = "1.3.6.1.4.1.3704.1.2";
inline constexpr char kOidBlSpl[] = "1.3.6.1.4.1.3704.1.3.1";
inline constexpr char kOidTeeSpl[] = "1.3.6.1.4.1.3704.1.3.2";
inline constexpr char kOidSnpSpl[] = "1.3.6.1.4.1.3704.1.3.3";
inline constexpr char kOidUcodeSpl[] = "1.3.6.1.4.1.3704.1.3.8";
inline constexpr char kOidFmcSpl[] = "1.3.6.1.4.1.3704.1.3.9";
inline constexpr char kOidHwId[] = "1.3.6.1.4.1.3704.1.4";
inline constexpr char kOidCspId[] = "1.3.6.1.4.1.3704.1.5";

// What a VCEK or VLEK says about itself.
struct EndorsementInfo {
  std::optional<int64_t> struct_version;
  std::string product_name;             // as written, e.g. "Milan-B0"; empty when absent
  Product product = Product::kUnknown;  // from product_name, else from the issuer's CN
  std::optional<uint8_t> bl_spl, tee_spl, snp_spl, ucode_spl, fmc_spl;
  std::optional<Bytes> hwid;          // VCEK only
  std::optional<std::string> csp_id;  // VLEK only
  bool is_vlek() const { return csp_id.has_value() && !hwid.has_value(); }
};

// Reads AMD's extensions. kInvalidInput naming the OID when one is present but malformed (not
// the expected DER type, an SPL outside 0..255, a hwID of the wrong length). Absent extensions
// are left empty; the verifier decides which ones it needs.
Result<EndorsementInfo> ReadEndorsementInfo(const Certificate& cert);

// Helpers for the extension values, shared with the simulator.
Bytes EncodeDerInteger(int64_t v);
Bytes EncodeDerIa5String(std::string_view s);
// The INTEGER or IA5String in an extension value; kInvalidInput when `der` is anything else.
Result<int64_t> DecodeDerInteger(ByteSpan der);
Result<std::string> DecodeDerIa5String(ByteSpan der);

}  // namespace cvm::snp
