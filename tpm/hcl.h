// Azure confidential VMs: the HCL (paravisor) attestation report kept in the vTPM, and the TPM
// quote Azure evidence carries next to it.
//
// The HCL report (NV index 0x01400001; layout from kinvolk/azure-cvm-tooling az-cvm-vtpm
// src/hcl/mod.rs and Azure's HclReportParser; all integers little-endian):
//   0x000 header:  u32 signature "HCLA" | u32 version | u32 report_size | u32 request_type
//                  | u32 status | u32 reserved[3]
//   0x020 hardware report: a 1184-byte SNP ATTESTATION_REPORT, or a 1024-byte TDREPORT padded
//                  to 1184 bytes
//   0x4C0 IgvmRequestData: u32 data_size | u32 version | u32 report_type (2 SNP, 4 TDX)
//                  | u32 report_data_hash_type (1 SHA-256, 2 SHA-384, 3 SHA-512)
//                  | u32 variable_data_size
//   0x4D4 variable data: the runtime claims, UTF-8 JSON
//                  {"keys":[{"kid":"HCLAkPub", JWK}, {"kid":"HCLEkPub", JWK}],
//                   "vm-configuration":{...}, "user-data":"hex"}
//   The NV index is larger than the report; the rest is padding.
// Binding (Azure's): the hardware report's REPORT_DATA starts with H(variable data), H being the
// report_data_hash_type. So a genuine hardware report vouches for the claims, hence for the vTPM
// AK (HCLAkPub) and the user data the guest wrote to NV index 0x01400002 before the report was
// made.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/digest.h"
#include "common/ossl.h"
#include "tpm/attest.h"
#include "tpm/pcr.h"

namespace cvm::tpm {

class Tpm;

inline constexpr uint32_t kHclReportNvIndex = 0x01400001;
inline constexpr uint32_t kHclUserDataNvIndex = 0x01400002;
inline constexpr size_t kHclUserDataSize = 64;
inline constexpr size_t kHclHardwareReportOffset = 0x20;
inline constexpr size_t kHclHardwareReportArea = 1184;
inline constexpr size_t kHclIgvmOffset = 0x4C0;
inline constexpr size_t kHclClaimsOffset = 0x4D4;
inline constexpr size_t kSnpReportSize = 1184;
inline constexpr size_t kTdReportSize = 1024;

enum class HclReportType : uint32_t { kSnp = 2, kTdx = 4 };

struct HclReport {
  uint32_t version = 0;
  uint32_t report_size = 0;
  uint32_t request_type = 0;
  uint32_t status = 0;
  HclReportType type = HclReportType::kSnp;
  Bytes hardware_report;  // 1184 bytes (SNP) or 1024 bytes (TDREPORT)
  uint32_t igvm_data_size = 0;
  uint32_t igvm_version = 0;
  DigestAlg claims_hash = DigestAlg::kSha256;
  Bytes runtime_claims;  // the variable data, exactly as hashed
  // Decoded from the claims.
  ossl::PKey ak_pub;               // HCLAkPub (required)
  ossl::PKey ek_pub;               // HCLEkPub (null when absent)
  std::optional<Bytes> user_data;  // "user-data", decoded from hex
};

// "SNP" / "TDX".
const char* HclReportTypeName(HclReportType type);

// Parses an HCL report (the NV index contents; trailing padding allowed). kInvalidInput names the
// field for malformed bytes or claims; kUnsupported for another report or hash type.
Result<HclReport> ParseHclReport(ByteSpan data);

// The REPORT_DATA field of the hardware report (SNP offset 0x50, TDREPORT offset 0x80; 64 bytes).
ByteSpan HclReportData(const HclReport& report);

// Checks Azure's binding: REPORT_DATA starts with H(runtime claims). kRejected when it does not.
Status VerifyHclBinding(const HclReport& report);

// The TPM quote in Azure evidence (trustee's az-snp-vtpm "tpm_quote", tpm-quote-v1.json):
// {"signature": hex raw RSASSA signature, "message": hex TPMS_ATTEST, "pcrs": [24 x hex sha256]}.
struct AzureTpmQuote {
  Bytes attest;
  TpmSignature signature;  // RSASSA-PKCS1-v1_5 / SHA-256, as Azure's AK signs
  PcrValues pcrs;          // sha256 bank, PCRs 0..N-1
};
Result<AzureTpmQuote> ParseAzureTpmQuote(std::string_view json);

// Verifies the quote with the report's HCLAkPub: signature, structure and PCR digest, and
// extraData == `nonce` when a nonce is given (nullopt: the caller checks Attest::extra_data).
Result<Attest> VerifyAzureTpmQuote(const HclReport& report, const AzureTpmQuote& quote,
                                   std::optional<ByteSpan> nonce);

// Getting a fresh HCL report on an Azure CVM: write the user data (zero-padded to 64 bytes) to
// NV 0x01400002, then read NV 0x01400001 until its claims carry that user data. The paravisor
// refreshes the report asynchronously (azure-cvm-tooling sleeps ~3 s), so the read is retried.
struct HclFetchOptions {
  int attempts = 5;                                      // reads before giving up
  std::chrono::milliseconds delay{3000};                 // before each read
  std::function<void(std::chrono::milliseconds)> sleep;  // empty: std::this_thread::sleep_for
};
// Returns the raw NV contents. kNotFound when the TPM has no HCL report (not an Azure CVM);
// kDeadlineExceeded when the report never picked up the user data; kInvalidInput when
// `user_data` is longer than 64 bytes.
Result<Bytes> FetchAzureHclReport(Tpm& tpm, ByteSpan user_data,
                                  const HclFetchOptions& options = {});

}  // namespace cvm::tpm
