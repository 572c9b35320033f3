// Is a (verified) SNP report the one we expected? Compares its fields to expected values.
// Separate from verification so an operator can tell "forged" (verify.h) from "not our VM".
// Every violation is reported, not only the first.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "snp/report.h"

namespace cvm::snp {

// Expected values. Every field defaults to "not checked" except the guest-policy safety bits
// (debug and migration agent must be off unless allowed).
struct ValidationOptions {
  // Acceptable MEASUREMENT values (48 bytes each). Empty: not checked.
  std::vector<Bytes> measurements;
  // Exact HOST_DATA (32 bytes), REPORT_DATA (64), FAMILY_ID (16), IMAGE_ID (16). Empty: not
  // checked.
  std::optional<Bytes> host_data;
  std::optional<Bytes> report_data;
  std::optional<Bytes> family_id;
  std::optional<Bytes> image_id;
  // Acceptable ID_KEY_DIGEST / AUTHOR_KEY_DIGEST values (48 bytes). Empty: not checked. A
  // non-empty author list also requires AUTHOR_KEY_EN.
  std::vector<Bytes> id_key_digests;
  std::vector<Bytes> author_key_digests;
  // Minimum GUEST_SVN. Empty: not checked.
  std::optional<uint32_t> min_guest_svn;
  // Minimum TCB, component by component (the product decides the layout). Empty: not checked.
  std::optional<TcbParts> min_current_tcb;
  std::optional<TcbParts> min_reported_tcb;
  std::optional<TcbParts> min_committed_tcb;
  std::optional<TcbParts> min_launch_tcb;
  // Minimum firmware: CURRENT_BUILD, and (major, minor) of CURRENT_MAJOR.CURRENT_MINOR.
  // Empty: not checked.
  std::optional<uint8_t> min_build;
  std::optional<std::pair<uint8_t, uint8_t>> min_version;
  // Minimum guest ABI the policy requires (POLICY ABI_MAJOR.ABI_MINOR). Empty: not checked.
  std::optional<std::pair<uint8_t, uint8_t>> min_policy_abi;
  // Exact VMPL. Empty: not checked.
  std::optional<uint32_t> vmpl;
  // Guest policy: debug and a migration agent are refused unless allowed.
  bool allow_debug = false;
  bool allow_migrate_ma = false;
  // Guest policy bits that must have this value. Empty: not checked.
  std::optional<bool> policy_smt, policy_single_socket, policy_cxl_allow, policy_mem_aes_256_xts,
      policy_rapl_dis, policy_ciphertext_hiding, policy_page_swap_disable;
  // Platform info bits that must have this value. Empty: not checked.
  std::optional<bool> platform_smt_enabled, platform_tsme_enabled, platform_ecc_enabled,
      platform_rapl_disabled, platform_ciphertext_hiding_enabled, platform_alias_check_complete;
  // Acceptable signing keys. Empty: not checked.
  std::vector<SigningKey> signing_keys;
  // Whether CHIP_ID may be masked. Empty: not checked.
  std::optional<bool> allow_masked_chip_id;
};

// Every way `report` differs from `options`, one sentence each ("measurement 5fee... is not one
// of the 2 expected values"). Empty when it matches. `product` picks the TCB layout.
std::vector<std::string> FindViolations(const Report& report, Product product,
                                        const ValidationOptions& options);

// OK, or kRejected listing every violation ("snp validation: 2 violations: a; b").
Status ValidateReport(const Report& report, Product product, const ValidationOptions& options);

}  // namespace cvm::snp
