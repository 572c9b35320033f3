// The production Attester: one Trustee KBS exchange (evidence::KbsClient, RCAR 0.4.0) against
// the relying party the boot flow names, with evidence collected by the shared EvidenceCollector
// (evidence::Collect, converted with evidence::ToTrusteeEvidence) and bound to the session's
// challenge nonce and ephemeral TEE key. Failover between relying parties is the boot flow's
// (it calls Attest once per relying party, in the configured order).
#pragma once

#include <functional>
#include <memory>

#include "agent/attester.h"
#include "agent/collect_source.h"
#include "agent/config.h"
#include "common/clock.h"
#include "common/http.h"
#include "common/status.h"

namespace cvm::agent {

struct KbsAttesterDeps {
  // A fresh HTTP client per exchange (the daemon's: its HTTP helper process, made before the
  // exchange's first request, so that its start counts as the agent's own time). Required.
  HttpClientFactory new_http;
  const Clock* clock = &SystemClock::Get();  // not owned
};

// Builds the attester for `config`'s relying parties. Each relying party's token_key (PEM
// public key) is read now, so a missing or malformed one fails the start (kInvalidInput or the
// read error, naming the file) instead of the first attestation. `config` must outlive it.
//
// Attest(rp, paths, deadline):
//   - every HTTP request's timeout is the smaller of timeouts.request (timeouts.connect for the
//     connection) and what is left until `deadline`; once it has passed: kDeadlineExceeded;
//   - TLS: rp.ca_file (empty: the system store), rp.pin_sha256 (hex, pinned), rp.proxy (empty:
//     no proxy; the environment is never consulted);
//   - with rp.token_key the token's ES256 signature, exp and nbf are verified (kRejected);
//   - phases: "evidence" (the whole collection), of which "evidence_tee" (the TEE's report or
//     quote: firmware or simulator) and "evidence_tpm" (the vTPM quote); "network" (time inside
//     HTTP requests: the network and the relying party's work); "http_helper" (getting the
//     exchange's HTTP client: waiting for the helper process to start, common/http_helper.h);
//     "exchange_own" (the rest of the exchange: the ephemeral key, JSON, the token check,
//     decrypting the resources).
//   Errors are KbsClient's: kRejected for a 401 (the relying party's reasons in the message),
//   kNotFound for a 404 resource, kUnavailable / kDeadlineExceeded when it cannot be reached,
//   kInvalidInput for an answer that is not the protocol.
Result<std::unique_ptr<Attester>> NewKbsAttester(const Config& config,
                                                 std::shared_ptr<EvidenceCollector> collector,
                                                 KbsAttesterDeps deps = {});

}  // namespace cvm::agent
