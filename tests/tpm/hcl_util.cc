#include "tests/tpm/hcl_util.h"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/digest.h"
#include "common/encoding.h"
#include "common/keys.h"
#include "tpm/hcl.h"

namespace cvm::testing {

using namespace cvm::tpm;  // NOLINT: the layout constants

Bytes MakeHcl(const std::string& claims) {
  Bytes b(kHclClaimsOffset + claims.size(), 0);
  std::span<uint8_t> s(b);
  StoreLe32(s, 0, 0x414C4348);  // "HCLA"
  StoreLe32(s, 4, 1);
  StoreLe32(s, 8, static_cast<uint32_t>(b.size()));
  StoreLe32(s, 12, 2);
  StoreLe32(s, kHclHardwareReportOffset, 2);  // SNP report version
  Bytes digest = Sha256(AsBytes(claims));
  std::copy(digest.begin(), digest.end(), b.begin() + kHclHardwareReportOffset + 0x50);
  StoreLe32(s, kHclIgvmOffset, static_cast<uint32_t>(20 + claims.size()));
  StoreLe32(s, kHclIgvmOffset + 4, 1);
  StoreLe32(s, kHclIgvmOffset + 8, 2);   // SNP
  StoreLe32(s, kHclIgvmOffset + 12, 1);  // SHA-256
  StoreLe32(s, kHclIgvmOffset + 16, static_cast<uint32_t>(claims.size()));
  std::copy(claims.begin(), claims.end(), b.begin() + kHclClaimsOffset);
  return b;
}

Bytes MakeTdxHcl(const std::string& claims, ByteSpan td_report) {
  Bytes b = MakeHcl(claims);
  std::span<uint8_t> s(b);
  std::fill(b.begin() + kHclHardwareReportOffset, b.begin() + kHclIgvmOffset, 0);
  std::copy(td_report.begin(), td_report.end(), b.begin() + kHclHardwareReportOffset);
  StoreLe32(s, kHclIgvmOffset + 8, 4);  // TDX
  return b;
}

std::string HclClaims(const EVP_PKEY* ak, ByteSpan user_data) {
  auto ne = RsaPublicKeyNE(ak);
  if (!ne.ok()) std::abort();  // test setup error
  nlohmann::json j;
  j["keys"] = nlohmann::json::array({{{"kid", "HCLAkPub"},
                                      {"kty", "RSA"},
                                      {"n", Base64UrlEncode(ne->first)},
                                      {"e", Base64UrlEncode(ne->second)}}});
  j["vm-configuration"] = {{"secure-boot", true}};
  j["user-data"] = HexEncode(user_data);
  return j.dump();
}

}  // namespace cvm::testing
