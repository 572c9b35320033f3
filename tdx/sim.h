// A simulated Intel TDX platform for tests and demos: a generated PKI of the same shape as
// Intel's (root CA -> PCK platform CA -> PCK leaf with SGX extensions; root CA -> TCB signing
// certificate), a simulated quoting enclave whose report binds a generated attestation key, v4
// and v5 quotes byte-exact to the DCAP format, and collateral in the PCCS JSON form.
//
// Nothing the simulator signs chains to Intel's root: verifiers accept its quotes only when the
// caller names the simulated root (QuoteVerifyOptions::roots, cvmctl verify --root).
#pragma once

#include <array>
#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/x509.h"
#include "tdx/collateral.h"
#include "tdx/pck.h"
#include "tdx/quote.h"

namespace cvm::tdx {

struct SimQuoteOptions {
  int version = 4;                           // 4, or 5 with a TD 1.5 body (type 3)
  Bytes report_data;                         // up to 64 bytes, zero-padded; empty: zeros
  std::optional<Bytes> mrtd;                 // 48; default SHA-384("cvm-agent simulated TD")
  std::optional<Bytes> mrconfigid;           // 48 (e.g. an init-data digest); default zeros
  std::array<std::optional<Bytes>, 4> rtmr;  // 48 each; default zeros
  uint64_t td_attributes = 1ull << 28;       // SEPT_VE_DISABLE; bit 0 is DEBUG
  uint64_t xfam = 0x00000000000642e7;
};

class SimTdx {
 public:
  // Generates a new platform whose certificates are valid from `now` - 1 day for 10 years.
  static Result<SimTdx> Create(TimePoint now);
  // Loads a platform written by Save from `dir`.
  static Result<SimTdx> Load(const std::string& dir);
  // Writes the platform to `dir` (created if needed): DIR/root.pem (the simulated root
  // certificate) and DIR/sim-tdx.json (all keys, mode 0600).
  Status Save(const std::string& dir) const;

  SimTdx(SimTdx&&) noexcept = default;
  SimTdx& operator=(SimTdx&&) noexcept = default;

  // A signed quote.
  Result<Bytes> MakeQuote(const SimQuoteOptions& options) const;
  // The TDREPORT (report.h) the simulated TDX module gives a TD with these values: both hashes
  // right, the MAC zero (a MAC is only ever checked on the platform). What Azure's paravisor puts
  // in an az-tdx-vtpm HCL report.
  static Result<Bytes> MakeTdReport(const SimQuoteOptions& options);
  // What the quoting enclave (Azure IMDS /acc/tdquote) does with a TDREPORT: a signed v4 quote
  // whose body carries the report's fields. kInvalidInput for a malformed TDREPORT, kRejected
  // when its hashes do not match.
  Result<Bytes> QuoteTdReport(ByteSpan td_report) const;
  // Collateral for this platform, current from `now` - 1 hour to `now` + 30 days.
  Result<Collateral> MakeCollateral(TimePoint now) const;

  const Certificate& root() const { return *root_; }
  const Certificate& pck() const { return *pck_; }
  const PckExtensions& pck_extensions() const { return ext_; }

  // The simulated TEE_TCB_SVN: TDX module major version 1 (identity TDX_01), SVN 3.
  static Bytes TeeTcbSvn();

 private:
  SimTdx() = default;
  Result<Bytes> SignQuote(const TdQuoteBody& body, int version) const;
  ossl::PKey root_key_, ca_key_, pck_key_, tcb_key_, att_key_;
  std::optional<Certificate> root_, ca_, pck_, tcb_;
  PckExtensions ext_;
};

}  // namespace cvm::tdx
