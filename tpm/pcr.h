// PCR selections and PCR values, independent of any TPM access.
//
// A selection names banks (hash algorithms) and, for each, the PCR indices 0..23. Text form, as in
// tpm2-tools: "sha256:0,1,7", ranges "sha256:0-15", several banks joined with '+'
// ("sha1:0,7+sha256:0-7"). Bank names: sha1, sha256, sha384, sha512.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/digest.h"

namespace cvm::tpm {

inline constexpr uint32_t kMaxPcr = 23;  // PC Client TPMs have 24 PCRs per bank.

struct PcrBank {
  DigestAlg alg = DigestAlg::kSha256;
  std::vector<uint32_t> pcrs;  // ascending, no duplicates, each <= kMaxPcr
};

// Banks in the order given (the order a TPM quote digests them).
struct PcrSelection {
  std::vector<PcrBank> banks;
  bool empty() const;
};

// PCR values: bank -> index -> digest.
using PcrValues = std::map<DigestAlg, std::map<uint32_t, Bytes>>;

// Parses the text form. kInvalidInput names the offending part.
Result<PcrSelection> ParsePcrSelection(std::string_view text);
// The canonical text form ("sha256:0,1,7"; runs are not collapsed into ranges).
std::string FormatPcrSelection(const PcrSelection& selection);
// sha256:0-15, the default quote selection.
PcrSelection DefaultPcrSelection();
// True when `selection` has PCR `index` of bank `alg`.
bool SelectionContains(const PcrSelection& selection, DigestAlg alg, uint32_t index);
// The PCRs of `values` that `selection` does not have, as "sha256:7" each (empty: none).
std::vector<std::string> PcrsOutsideSelection(const PcrSelection& selection,
                                              const PcrValues& values);

// The TPM algorithm identifier of a bank (TPM_ALG_SHA256 = 0x000B...), and back; the reverse
// returns kUnsupported for algorithms we do not handle.
uint16_t TpmAlgId(DigestAlg alg);
Result<DigestAlg> DigestAlgFromTpm(uint16_t alg_id);
// "sha256" -> kSha256; kInvalidInput for other names.
Result<DigestAlg> ParseBankName(std::string_view name);

// The digest a TPM2_Quote commits to: H_alg(value of each selected PCR, banks in selection order,
// indices ascending). kInvalidInput when a selected value is missing or has the wrong size.
Result<Bytes> PcrCompositeDigest(DigestAlg alg, const PcrSelection& selection,
                                 const PcrValues& values);

// {"sha256": {"0": "hex", ...}, ...}: the JSON form of cvmctl (PCR indices as decimal strings,
// lowercase hex), and its parser (kInvalidInput on malformed JSON, names, indices or digests).
std::string PcrValuesToJson(const PcrValues& values, int indent = 1);
Result<PcrValues> PcrValuesFromJson(std::string_view json);

}  // namespace cvm::tpm
