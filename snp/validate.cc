#include "snp/validate.h"

#include <algorithm>

#include "common/encoding.h"

namespace cvm::snp {
namespace {

class Checker {
 public:
  void Fail(std::string s) { out_.push_back(std::move(s)); }

  void Exact(std::string_view name, ByteSpan got, const std::optional<Bytes>& want) {
    if (want && !std::equal(got.begin(), got.end(), want->begin(), want->end())) {
      Fail(std::string(name) + " is " + HexEncode(got) + ", expected " + HexEncode(*want));
    }
  }
  void OneOf(std::string_view name, ByteSpan got, const std::vector<Bytes>& want) {
    if (want.empty()) return;
    for (const auto& w : want) {
      if (std::equal(got.begin(), got.end(), w.begin(), w.end())) return;
    }
    Fail(std::string(name) + " " + HexEncode(got) + " is not one of the " +
         std::to_string(want.size()) + " expected values");
  }
  void MinTcb(std::string_view name, uint64_t raw, Product p, const std::optional<TcbParts>& min) {
    if (min && !TcbAtLeast(DecodeTcb(raw, p), *min)) {
      Fail(std::string(name) + " (" + TcbToString(DecodeTcb(raw, p), p) +
           ") is below the minimum (" + TcbToString(*min, p) + ")");
    }
  }
  void Bit(std::string_view name, bool got, const std::optional<bool>& want) {
    if (want && got != *want) {
      Fail(std::string(name) + " is " + (got ? "set" : "clear") + ", expected " +
           (*want ? "set" : "clear"));
    }
  }
  std::vector<std::string> Take() { return std::move(out_); }

 private:
  std::vector<std::string> out_;
};

std::string Version(uint8_t major, uint8_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

}  // namespace

std::vector<std::string> FindViolations(const Report& r, Product p, const ValidationOptions& o) {
  Checker c;
  c.OneOf("measurement", r.measurement, o.measurements);
  c.Exact("host_data", r.host_data, o.host_data);
  c.Exact("report_data", r.report_data, o.report_data);
  c.Exact("family_id", r.family_id, o.family_id);
  c.Exact("image_id", r.image_id, o.image_id);
  c.OneOf("id_key_digest", r.id_key_digest, o.id_key_digests);
  if (!o.author_key_digests.empty()) {
    if (!r.Signer().author_key_en) c.Fail("an author key is required but AUTHOR_KEY_EN is clear");
    c.OneOf("author_key_digest", r.author_key_digest, o.author_key_digests);
  }
  if (o.min_guest_svn && r.guest_svn < *o.min_guest_svn) {
    c.Fail("guest_svn " + std::to_string(r.guest_svn) + " is below the minimum " +
           std::to_string(*o.min_guest_svn));
  }
  c.MinTcb("current_tcb", r.current_tcb, p, o.min_current_tcb);
  c.MinTcb("reported_tcb", r.reported_tcb, p, o.min_reported_tcb);
  c.MinTcb("committed_tcb", r.committed_tcb, p, o.min_committed_tcb);
  c.MinTcb("launch_tcb", r.launch_tcb, p, o.min_launch_tcb);
  if (o.min_build && r.current_build < *o.min_build) {
    c.Fail("firmware build " + std::to_string(r.current_build) + " is below the minimum " +
           std::to_string(*o.min_build));
  }
  if (o.min_version && std::pair(r.current_major, r.current_minor) < *o.min_version) {
    c.Fail("firmware version " + Version(r.current_major, r.current_minor) +
           " is below the minimum " + Version(o.min_version->first, o.min_version->second));
  }
  GuestPolicy pol = DecodePolicy(r.policy);
  if (o.min_policy_abi && std::pair(pol.abi_major, pol.abi_minor) < *o.min_policy_abi) {
    c.Fail("policy ABI " + Version(pol.abi_major, pol.abi_minor) + " is below the minimum " +
           Version(o.min_policy_abi->first, o.min_policy_abi->second));
  }
  if (o.vmpl && r.vmpl != *o.vmpl) {
    c.Fail("vmpl is " + std::to_string(r.vmpl) + ", expected " + std::to_string(*o.vmpl));
  }
  if (pol.debug && !o.allow_debug) c.Fail("guest policy allows debugging (DEBUG bit 19 set)");
  if (pol.migrate_ma && !o.allow_migrate_ma) {
    c.Fail("guest policy allows a migration agent (MIGRATE_MA bit 18 set)");
  }
  c.Bit("policy SMT", pol.smt, o.policy_smt);
  c.Bit("policy SINGLE_SOCKET", pol.single_socket, o.policy_single_socket);
  c.Bit("policy CXL_ALLOW", pol.cxl_allow, o.policy_cxl_allow);
  c.Bit("policy MEM_AES_256_XTS", pol.mem_aes_256_xts, o.policy_mem_aes_256_xts);
  c.Bit("policy RAPL_DIS", pol.rapl_dis, o.policy_rapl_dis);
  c.Bit("policy CIPHERTEXT_HIDING", pol.ciphertext_hiding, o.policy_ciphertext_hiding);
  c.Bit("policy PAGE_SWAP_DISABLE", pol.page_swap_disable, o.policy_page_swap_disable);
  PlatformInfo pi = DecodePlatformInfo(r.platform_info);
  c.Bit("platform SMT_EN", pi.smt_enabled, o.platform_smt_enabled);
  c.Bit("platform TSME_EN", pi.tsme_enabled, o.platform_tsme_enabled);
  c.Bit("platform ECC_EN", pi.ecc_enabled, o.platform_ecc_enabled);
  c.Bit("platform RAPL_DIS", pi.rapl_disabled, o.platform_rapl_disabled);
  c.Bit("platform CIPHERTEXT_HIDING_EN", pi.ciphertext_hiding_enabled,
        o.platform_ciphertext_hiding_enabled);
  c.Bit("platform ALIAS_CHECK_COMPLETE", pi.alias_check_complete, o.platform_alias_check_complete);
  SignerInfo s = r.Signer();
  if (!o.signing_keys.empty() && std::find(o.signing_keys.begin(), o.signing_keys.end(),
                                           s.signing_key) == o.signing_keys.end()) {
    c.Fail("signing key " + std::string(SigningKeyName(s.signing_key)) + " is not accepted");
  }
  if (o.allow_masked_chip_id && !*o.allow_masked_chip_id && s.mask_chip_id) {
    c.Fail("CHIP_ID is masked (MASK_CHIP_ID set)");
  }
  return c.Take();
}

Status ValidateReport(const Report& report, Product product, const ValidationOptions& options) {
  auto v = FindViolations(report, product, options);
  if (v.empty()) return Status::Ok();
  std::string msg = "snp validation: " + std::to_string(v.size()) +
                    (v.size() == 1 ? " violation: " : " violations: ");
  for (size_t i = 0; i < v.size(); ++i) msg += (i ? "; " : "") + v[i];
  return Rejected(msg);
}

}  // namespace cvm::snp
