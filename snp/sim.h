// A simulated AMD SEV-SNP platform, for tests and demos on machines without SNP hardware.
//
// It generates a chain of the same shape as AMD's: ARK (RSA-4096, self-signed, RSASSA-PSS
// SHA-384, salt 48) -> ASK (RSA-4096) -> VCEK (EC P-384) carrying AMD's extensions (vcek.h) for
// its product, TCB and chip ID, and signs byte-exact ATTESTATION_REPORTs with the VCEK. Nothing
// it signs chains to AMD's real roots: a verifier accepts its reports only when told to trust the
// simulated ARK.
//
// State directory: ark.pem ask.pem vcek.pem (certificates, 0644), ark.key ask.key vcek.key
// (PKCS#8 private keys, 0600) and sim.json (the platform: product, report version, chip ID, TCB,
// firmware version).
#pragma once

#include <array>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/ossl.h"
#include "common/x509.h"
#include "snp/report.h"

namespace cvm::snp {

struct SimPlatform {
  Product product = Product::kGenoa;
  // Report version the simulated firmware emits: 2, 3 (what current firmware emits) or 5.
  uint32_t report_version = 3;
  // Empty: random (Turin: 8 random bytes then 56 zero bytes, as Turin firmware reports it).
  std::optional<std::array<uint8_t, 64>> chip_id;
  TcbParts tcb{.fmc = 0, .bootloader = 9, .tee = 0, .snp = 23, .microcode = 72};
  uint8_t fw_build = 28, fw_minor = 55, fw_major = 1;
  uint64_t platform_info = 0x1;  // SMT enabled
  // Validity start of every certificate; the ARK/ASK last 25 years, the VCEK 7 (like AMD's).
  TimePoint not_before = std::chrono::system_clock::now() - std::chrono::hours(24);
};

// What the guest asks for (and what the launch fixed), per report.
struct SimReportRequest {
  std::array<uint8_t, 64> report_data{};
  std::array<uint8_t, 48> measurement{};
  std::array<uint8_t, 32> host_data{};
  std::array<uint8_t, 16> family_id{};
  std::array<uint8_t, 16> image_id{};
  std::array<uint8_t, 48> id_key_digest{};
  std::array<uint8_t, 48> author_key_digest{};
  uint64_t policy = 0x30000;  // SMT allowed, reserved bit 17, ABI 0.0
  uint32_t guest_svn = 0;
  uint32_t vmpl = 0;
  bool mask_chip_id = false;
  bool author_key_en = false;
};

class SimSnp {
 public:
  // Generates a new platform (two RSA-4096 keys: slow under sanitizers). With a non-empty
  // `dir`, writes the state there (creating it; existing files are replaced).
  static Result<SimSnp> Create(const SimPlatform& platform, const std::string& dir = "");
  // Loads a state directory written by Create. kInvalidInput / kNotFound naming the file.
  static Result<SimSnp> Load(const std::string& dir);
  // Loads what the simulated firmware needs to sign reports (the platform, the VCEK key and the
  // three certificates), not the ARK and ASK private keys, which a real firmware never holds:
  // ark_key() and ask_key() are then null. cvm-agentd loads its simulator this way (two RSA-4096
  // key decodings less at start, no CA key in the agent). Errors as Load.
  static Result<SimSnp> LoadFirmware(const std::string& dir);

  // A signed report for `request` (version, TCB, chip ID, CPUID from the platform).
  Result<Bytes> MakeReport(const SimReportRequest& request) const;
  // The report fields MakeReport would sign, for callers that want to alter them first.
  Report UnsignedReport(const SimReportRequest& request) const;
  // Signs `report` with the VCEK (fills signature_r/s) and serializes it.
  Result<Bytes> Sign(Report report) const;

  const SimPlatform& platform() const { return platform_; }
  const Certificate& ark() const { return ark_; }
  const Certificate& ask() const { return ask_; }
  const Certificate& vcek() const { return vcek_; }
  const EVP_PKEY* ask_key() const { return ask_key_.get(); }  // null after LoadFirmware
  const EVP_PKEY* ark_key() const { return ark_key_.get(); }  // null after LoadFirmware
  const EVP_PKEY* vcek_key() const { return vcek_key_.get(); }

  SimSnp(SimSnp&&) noexcept = default;
  SimSnp& operator=(SimSnp&&) noexcept = default;
  SimSnp(const SimSnp&) = delete;
  SimSnp& operator=(const SimSnp&) = delete;

 private:
  SimSnp(SimPlatform platform, ossl::PKey ark_key, ossl::PKey ask_key, ossl::PKey vcek_key,
         Certificate ark, Certificate ask, Certificate vcek);
  static Result<SimSnp> LoadState(const std::string& dir, bool ca_keys);

  SimPlatform platform_;
  ossl::PKey ark_key_, ask_key_, vcek_key_;
  Certificate ark_, ask_, vcek_;
};

// Issues a VCEK for `platform` under `ask` (the certificate extensions AMD's KDS puts on one).
// Exposed so tests can mint VCEKs for another TCB or chip.
Result<Certificate> IssueSimVcek(const SimPlatform& platform, const EVP_PKEY* vcek_key,
                                 const Certificate& ask, const EVP_PKEY* ask_key);

}  // namespace cvm::snp
