// TPM evidence through tpm::AppraiseQuote, the one TPM quote entry every front door uses: AK
// signature, AK name, PCR digest over exactly the quoted PCRs, nonce, event log replay.
#include "common/keys.h"
#include "common/tcg_eventlog.h"
#include "evidence/appraise.h"
#include "tpm/appraise.h"

namespace cvm::evidence::internal {

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
  tpm::QuoteAppraiseOptions o;
  if (expected_nonce && !expected_nonce->empty()) {
    o.nonce = *expected_nonce;
  } else {
    o.ignore_nonce = true;
  }
  o.ak_public_area = tpm_ev.ak_public_area;
  std::optional<tcg::EventLog> log;
  if (!tpm_ev.event_log.empty()) {
    auto parsed = tcg::ParseEventLog(tpm_ev.event_log);
    if (!parsed.ok()) {
      a.reasons.push_back("tpm event log: " + parsed.status().ToString());
    } else {
      log = std::move(*parsed);
      o.event_log = &*log;
    }
  }
  auto appraisal = tpm::AppraiseQuote(ak, tpm_ev.attest, *sig, tpm_ev.pcrs, o);
  if (!appraisal.ok()) {
    a.reasons.push_back("tpm quote: " + appraisal.status().ToString());
    return;
  }
  const Verdict& v = appraisal->verdict;
  // AppraiseQuote's verification reasons leave it not genuine; a genuine verdict's reasons are
  // validation ones, and the bundle names no expected PCRs, so they are the event log's.
  for (const auto& r : v.reasons) {
    a.reasons.push_back((v.genuine ? "tpm event log: " : "tpm quote: ") + r);
  }
  for (const auto& n : v.notes) a.notes.push_back("tpm quote: " + n);
  if (!v.genuine) return;
  // The library refused any value outside the quoted selection: these are exactly the quoted.
  a.claims.pcrs = tpm_ev.pcrs;
}

}  // namespace cvm::evidence::internal
