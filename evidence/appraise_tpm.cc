// TPM evidence through the tpm library: quote, AK name, PCR digest, event log replay.
#include <algorithm>
#include <set>

#include "common/encoding.h"
#include "common/keys.h"
#include "common/tcg_eventlog.h"
#include "evidence/appraise.h"
#include "tpm/attest.h"
#include "tpm/eventlog.h"
#include "tpm/public_area.h"

namespace cvm::evidence::internal {
namespace {

std::string PcrName(DigestAlg alg, uint32_t index) {
  return std::string(DigestName(alg)) + ":" + std::to_string(index);
}

// Every PCR the log extends must be quoted (in each quoted bank the log carries), and the
// replayed values must equal the quoted ones.
void AppraiseEventLog(ByteSpan log_bytes, const tpm::PcrValues& quoted, Appraisal& a) {
  auto log = tcg::ParseEventLog(log_bytes);
  if (!log.ok()) {
    a.reasons.push_back("tpm event log: " + log.status().ToString());
    return;
  }
  std::set<uint32_t> touched;
  for (const auto& e : log->events) {
    if (e.type != tcg::kEvNoAction) touched.insert(e.index);
  }
  tpm::PcrValues replayed = tpm::ReplayPcrs(*log);
  tpm::PcrValues compare;
  for (const auto& [alg, bank] : quoted) {
    if (!replayed.count(alg)) continue;  // the log does not carry this bank
    for (uint32_t index : touched) {
      auto it = bank.find(index);
      if (it == bank.end()) {
        a.reasons.push_back("tpm event log: it extends PCR " + PcrName(alg, index) +
                            ", which the quote does not cover");
        continue;
      }
      compare[alg][index] = it->second;
    }
  }
  if (compare.empty()) {
    if (!touched.empty()) {
      a.reasons.push_back("tpm event log: none of its banks or PCRs is covered by the quote");
    }
    return;
  }
  Status s = tpm::ValidatePcrsAgainstEventLog(compare, *log);
  if (!s.ok()) a.reasons.push_back("tpm event log: " + s.message());
}

}  // namespace

void AppraiseTpm(const TpmEvidence& tpm_ev, const EVP_PKEY* ak,
                 const std::optional<Bytes>& expected_nonce, Appraisal& a) {
  ossl::PKey own_key;
  if (ak == nullptr) {
    auto k = PublicKeyFromDer(tpm_ev.ak_public);
    if (!k.ok()) {
      a.reasons.push_back("tpm: AK public key: " + k.status().ToString());
      return;
    }
    own_key = std::move(*k);
    ak = own_key.get();
  }
  auto sig = tpm::ParseTpmSignature(tpm_ev.signature);
  if (!sig.ok()) {
    a.reasons.push_back("tpm signature: " + sig.status().ToString());
    return;
  }
  auto attest = tpm::VerifyQuoteIgnoringNonce(ak, tpm_ev.attest, *sig, tpm_ev.pcrs);
  if (!attest.ok()) {
    a.reasons.push_back("tpm quote: " + attest.status().message());
    return;
  }
  if (expected_nonce) {
    if (!ConstantTimeEqual(attest->extra_data, *expected_nonce)) {
      a.reasons.push_back("tpm quote: qualifying data " + HexEncode(attest->extra_data) +
                          " is not the expected nonce " + HexEncode(*expected_nonce));
    }
  } else {
    a.notes.push_back("tpm quote: qualifying data not checked (no runtime data or nonce)");
  }
  if (!tpm_ev.ak_public_area.empty()) {
    auto pub = tpm::ParsePublicArea(tpm_ev.ak_public_area);
    if (!pub.ok()) {
      a.reasons.push_back("tpm: " + pub.status().ToString());
    } else {
      auto der_area = PublicKeyToDer(pub->key.get());
      auto der_ak = PublicKeyToDer(ak);
      if (!der_area.ok() || !der_ak.ok() || *der_area != *der_ak) {
        a.reasons.push_back("tpm: the AK public area holds another key than the AK");
      }
      if (!pub->IsAttestationKey()) {
        a.reasons.push_back("tpm: the AK is not a restricted signing key fixed to the TPM");
      }
      if (attest->qualified_signer != pub->name) {
        a.reasons.push_back("tpm quote: qualifiedSigner " + HexEncode(attest->qualified_signer) +
                            " is not the AK's name " + HexEncode(pub->name));
      }
    }
  } else {
    a.notes.push_back(
        "tpm quote: qualifiedSigner not compared (the evidence carries the AK without its TPM "
        "public area)");
  }
  // Only the PCRs the quote covers are claims.
  std::vector<std::string> ignored;
  for (const auto& [alg, bank] : tpm_ev.pcrs) {
    const tpm::PcrBank* selected = nullptr;
    for (const auto& b : attest->pcr_selection.banks) {
      if (b.alg == alg) selected = &b;
    }
    for (const auto& [index, value] : bank) {
      bool covered = selected && std::find(selected->pcrs.begin(), selected->pcrs.end(), index) !=
                                     selected->pcrs.end();
      if (covered) {
        a.claims.pcrs[alg][index] = value;
      } else {
        ignored.push_back(PcrName(alg, index));
      }
    }
  }
  if (!ignored.empty()) {
    std::string list;
    for (const auto& p : ignored) list += (list.empty() ? "" : ", ") + p;
    a.notes.push_back("tpm: PCR values outside the quote's selection ignored: " + list);
  }
  if (!tpm_ev.event_log.empty()) AppraiseEventLog(tpm_ev.event_log, a.claims.pcrs, a);
}

}  // namespace cvm::evidence::internal
