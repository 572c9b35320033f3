// The relying party's release policy: which appraised evidence may receive which resource.
//
// A policy file (YAML, docs/relying-party.md "Policy reference") holds a `default` rule and
// optional per-resource rules keyed "repo/type/tag" (a segment may be "*"). A resource is
// governed by the most specific rule that matches its path (fewest "*"), else by `default`;
// a resource that no rule governs is never released. A token is issued only to evidence that
// at least one rule accepts.
//
// In a rule every key is optional and an absent key is not checked, with two fail-closed
// exceptions: `tee` is required, and a debug guest or evidence chaining to a simulated root is
// refused unless the rule allows it. Evaluation lists every violation, not just the first.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/digest.h"
#include "common/status.h"
#include "evidence/bundle.h"

namespace cvm::rp {

// What a rule demands of the GPUs (docs/relying-party.md "GPU policy"). A rule with a `gpu`
// section accepts only evidence that carries verified GPU evidence (fail closed: none is a
// violation); every key inside is optional.
struct GpuRule {
  std::optional<size_t> count;          // exactly this many GPUs
  std::set<std::string> architectures;  // "HOPPER", "BLACKWELL"; empty: any
  std::string min_driver_version;       // dotted decimal, e.g. "550.90.07"; empty: not checked
  std::string min_vbios_version;        // dotted hex, e.g. "96.00.9F.00.01"; empty: not checked
  std::set<std::string> cc_modes;       // "SPT", "MPT", "PPCIE"; empty: not checked
  bool require_rim_match = false;       // measurements: both RIMs found, every value matches
};

struct PolicyRule {
  std::string name;                              // "default" or the resource pattern
  std::set<evidence::TeeKind> tee;               // accepted TEE kinds (required, non-empty)
  std::vector<Bytes> snp_measurements;           // SNP MEASUREMENT (48 bytes); empty: not checked
  std::vector<Bytes> mrtd;                       // TDX MRTD (48 bytes)
  std::map<uint32_t, std::vector<Bytes>> rtmrs;  // TDX RTMR index 0..3 -> accepted values
  std::map<DigestAlg, std::map<uint32_t, std::vector<Bytes>>> pcrs;  // bank -> index -> values
  std::vector<Bytes> snp_id_key_digests;      // SNP ID_KEY_DIGEST (48 bytes): signed ID blocks
  std::vector<Bytes> snp_author_key_digests;  // SNP AUTHOR_KEY_DIGEST (48 bytes)
  std::vector<Bytes> host_data;               // SNP HOST_DATA (32 bytes), e.g. the init-data digest
  std::vector<Bytes> mrconfigid;              // TDX MRCONFIGID (48 bytes)
  std::map<std::string, uint64_t> min_tcb;    // SNP component -> minimum (bootloader, tee, ...)
  std::optional<uint32_t> min_guest_svn;      // SNP GUEST_SVN
  std::optional<std::set<std::string>> tcb_statuses;  // TDX DCAP statuses accepted
  std::optional<std::set<std::string>> advisories;    // TDX advisory IDs tolerated
  bool allow_debug = false;
  bool allow_simulated = false;  // evidence chaining to a configured simulated root
  std::optional<std::chrono::seconds> max_evidence_age;
  std::optional<GpuRule> gpu;  // nullopt: GPUs not required (those present are still verified)
};

struct Policy {
  std::string file;    // where it was read from
  std::string digest;  // "sha256:<hex>" of the file's bytes (the token's appraisal-policy-id)
  std::optional<PolicyRule> default_rule;
  std::vector<PolicyRule> resources;  // name = "repo/type/tag" pattern

  // The rule governing a resource path "repo/type/tag", or nullptr when none does.
  const PolicyRule* RuleFor(std::string_view path) const;
  // Every rule (the default first).
  std::vector<const PolicyRule*> Rules() const;
};

// Parses a policy; errors read "<file>:<line>:<col>: <key>: <problem>" (kInvalidInput).
Result<Policy> ParsePolicy(std::string_view yaml, const std::string& file);
Result<Policy> LoadPolicy(const std::string& path);

// Compares dotted versions component by component, each a number in `base` (10 for drivers, 16
// for VBIOS): <0, 0, >0. kInvalidInput for an empty component or a non-digit.
Result<int> CompareVersions(std::string_view a, std::string_view b, int base);

// Every way `claims` violate `rule` (empty: accepted). `evidence_age` is how old the evidence
// is: the time since the nonce it binds was issued.
std::vector<std::string> EvaluateRule(const PolicyRule& rule, const evidence::Claims& claims,
                                      std::chrono::seconds evidence_age);

}  // namespace cvm::rp
