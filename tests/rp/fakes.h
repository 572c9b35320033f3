// Fakes for the relying party's seams (rp/appraisal.h) and a thread-safe test clock.
//
// Fake evidence is primary_evidence = {"fake": {...}} with these members (all optional except
// "nonce"):
//   "nonce"        must equal the session's nonce (stands in for the REPORT_DATA binding)
//   "genuine"      false: refused as a bad signature
//   "measurement"  hex (48 bytes), "host_data" hex, "debug" bool, "guest_svn" number,
//   "tcb"          {"bootloader": n, ...}, "simulated" bool
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "common/clock.h"
#include "rp/appraisal.h"

namespace cvm::rp::testing {

class TestClock final : public Clock {
 public:
  TimePoint Now() const override {
    return std::chrono::system_clock::now() + std::chrono::seconds(offset_.load());
  }
  void Advance(std::chrono::seconds d) { offset_ += d.count(); }

 private:
  std::atomic<int64_t> offset_{0};
};

class FakeAppraiser final : public Appraiser {
 public:
  Result<Appraisal> Appraise(const AppraisalInput& input) const override;
  int calls() const { return calls_.load(); }

 private:
  mutable std::atomic<int> calls_{0};
};

// CheckKey accepts exactly Trustee's EC members {kty, crv, alg, x, y}. Seal "encrypts" as
// {"fake-jwe": base64(plaintext), "to": x}: enough to see what was released and to whom.
class FakeSealer final : public ResourceSealer {
 public:
  Result<std::shared_ptr<const SealingKey>> CheckKey(
      const nlohmann::json& tee_pubkey) const override;
  Result<std::string> Seal(const SealingKey& key, ByteSpan plaintext) const override;
};

// Tokens: base64url(claims) "." hex(sha256(secret || payload)); Verify checks both and exp.
class FakeSigner final : public TokenSigner {
 public:
  Result<std::string> Sign(const nlohmann::json& claims) const override;
  Result<nlohmann::json> Verify(std::string_view token, TimePoint now) const override;
};

// The JWK the tests' TEE presents (a valid P-256 point is not needed by the fakes).
nlohmann::json TestJwk();
// A /kbs/v0/attest body for fake evidence `fields` (the nonce is added to them).
std::string AttestBody(const std::string& nonce, nlohmann::json fields = nlohmann::json::object(),
                       nlohmann::json jwk = TestJwk());
// The claims of a FakeSigner token (no verification).
nlohmann::json TokenClaims(const std::string& token);

}  // namespace cvm::rp::testing
