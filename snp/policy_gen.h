// Relying-party policy from build outputs: what `cvmctl policy generate` writes so that a verifier
// accepts exactly the VMs launched from one image.
//
// Two forms of the same expected values:
//  - the SNP YAML policy that ParsePolicy (policy.h) reads and `cvmctl verify --policy` applies;
//  - Trustee's reference values, as a message for its reference value provider service (RVPS).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "snp/report.h"

namespace cvm::snp {

// The expected values of one image. Empty fields are not checked.
struct ReferenceValues {
  std::vector<Bytes> measurements;           // 48 bytes each; at least one
  std::optional<Bytes> id_key_digest;        // 48 bytes
  std::optional<Bytes> author_key_digest;    // 48 bytes (requires AUTHOR_KEY_EN in the report)
  std::optional<Bytes> family_id, image_id;  // 16 bytes each
  std::optional<Bytes> host_data;            // 32 bytes
  std::optional<uint32_t> min_guest_svn;
  std::optional<TcbParts> min_tcb;  // applied to the REPORTED_TCB
  std::optional<uint32_t> vmpl;
  // Debug and migration agent are always refused (allow_debug / allow_migrate_ma false).
};

// The SNP YAML policy (tee: snp). kInvalidInput for fields of the wrong size or no measurement.
// The result parses with ParsePolicy to the same expected values.
Result<std::string> FormatSnpPolicy(const ReferenceValues& values);

// The same expected values as a cvm-rp release policy (docs/relying-party.md): `version: 1` and a
// `default` rule with tee [snp], snp_measurements, snp_id_key_digests, snp_author_key_digests,
// host_data, min_tcb (fmc only when non-zero: earlier products report none), min_guest_svn and
// allow_debug false. cvm-rp has no FAMILY_ID, IMAGE_ID or VMPL keys: kInvalidInput when
// `values` sets one, unless `covered_by_id_block` (they came from an ID block whose ID key the
// policy pins, so the key's signature covers them; a comment in the file says so).
Result<std::string> FormatRelyingPartyPolicy(const ReferenceValues& values,
                                             bool covered_by_id_block);

// Trustee reference values: a JSON object of reference-value name -> list of accepted values,
// with the names Trustee's default attestation policy reads (snp_launch_measurement; the TCB
// components snp_bootloader, snp_tee_svn, snp_snp_svn, snp_microcode) and, for the other fields,
// names of the same pattern (snp_host_data, snp_id_key_digest, snp_author_key_digest,
// snp_family_id, snp_image_id, snp_guest_svn) that a custom policy can read. Byte fields are
// lowercase hex strings, numbers are numbers. Trustee's policy tests TCB components for
// membership, so a minimum becomes the list of every value from it to 255.
// kInvalidInput as for FormatSnpPolicy. See docs/image-pipeline.md for the assumptions.
Result<nlohmann::json> TrusteeReferenceValues(const ReferenceValues& values);
// The RVPS "sample" provenance message that registers `reference_values`:
// {"version": "0.1.0", "type": "sample", "payload": base64(compact JSON of reference_values)}.
nlohmann::json TrusteeRvpsMessage(const nlohmann::json& reference_values);

}  // namespace cvm::snp
