// TPMS_ATTEST / TPMT_SIGNATURE parsing and verification on hand-built structures.
#include "tpm/attest.h"

#include <catch2/catch.hpp>

#include "common/keys.h"
#include "common/signature.h"

namespace cvm::tpm {
namespace {

void Put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void Put32(Bytes& b, uint32_t v) {
  Put16(b, static_cast<uint16_t>(v >> 16));
  Put16(b, static_cast<uint16_t>(v));
}
void Put64(Bytes& b, uint64_t v) {
  Put32(b, static_cast<uint32_t>(v >> 32));
  Put32(b, static_cast<uint32_t>(v));
}
void Put2b(Bytes& b, ByteSpan v) {
  Put16(b, static_cast<uint16_t>(v.size()));
  b.insert(b.end(), v.begin(), v.end());
}

// A quote over sha256 PCRs 0 and 2 with the given nonce and PCR digest.
Bytes BuildAttest(ByteSpan nonce, ByteSpan pcr_digest) {
  Bytes b;
  Put32(b, kTpmGeneratedValue);
  Put16(b, kStAttestQuote);
  Put2b(b, Bytes(34, 0x22));
  Put2b(b, nonce);
  Put64(b, 1000);
  Put32(b, 3);
  Put32(b, 4);
  b.push_back(1);
  Put64(b, 0x2020031200120003);
  Put32(b, 1);
  Put16(b, 0x000B);
  b.push_back(3);
  b.insert(b.end(), {0x05, 0x00, 0x00});
  Put2b(b, pcr_digest);
  return b;
}

PcrValues Pcrs() {
  PcrValues v;
  v[DigestAlg::kSha256][0] = Bytes(32, 1);
  v[DigestAlg::kSha256][2] = Bytes(32, 2);
  return v;
}

Bytes PcrDigest() {
  Bytes concat(32, 1);
  concat.insert(concat.end(), 32, 2);
  return Sha256(concat);
}

const Bytes kNonce = {1, 2, 3};

TEST_CASE("TPMS_ATTEST fields are parsed big-endian") {
  auto a = ParseAttest(BuildAttest(kNonce, PcrDigest()));
  REQUIRE(a.ok());
  CHECK(a->qualified_signer == Bytes(34, 0x22));
  CHECK(a->extra_data == kNonce);
  CHECK(a->clock == 1000);
  CHECK(a->reset_count == 3);
  CHECK(a->restart_count == 4);
  CHECK(a->safe);
  CHECK(a->firmware_version == 0x2020031200120003);
  CHECK(FormatPcrSelection(a->pcr_selection) == "sha256:0,2");
  CHECK(a->pcr_digest == PcrDigest());
}

TEST_CASE("Every truncation of a TPMS_ATTEST is invalid input") {
  Bytes full = BuildAttest(kNonce, PcrDigest());
  for (size_t n = 0; n < full.size(); ++n) {
    INFO(n);
    CHECK(ParseAttest(ByteSpan(full).first(n)).status().code() == Code::kInvalidInput);
  }
  full.push_back(0);
  CHECK(ParseAttest(full).status().code() == Code::kInvalidInput);
}

TEST_CASE("A TPMS_ATTEST without TPM_GENERATED_VALUE or of another type is not a quote") {
  Bytes b = BuildAttest(kNonce, PcrDigest());
  b[0] = 0;
  CHECK(ParseAttest(b).status().message().find("TPM_GENERATED") != std::string::npos);
  b = BuildAttest(kNonce, PcrDigest());
  b[5] = 0x17;  // TPM_ST_ATTEST_CERTIFY
  CHECK(ParseAttest(b).status().code() == Code::kInvalidInput);
}

TEST_CASE("A quote signed in software verifies, and fails for each kind of tampering") {
  auto key = GenerateEcKey(Curve::kP256);
  REQUIRE(key.ok());
  Bytes attest = BuildAttest(kNonce, PcrDigest());
  auto der = SignEcdsaDer(key->get(), DigestAlg::kSha256, attest);
  auto raw = EcdsaDerToRaw(*der, 32);
  REQUIRE(raw.ok());
  TpmSignature sig;
  sig.scheme = SigScheme::kEcdsa;
  sig.r.assign(raw->begin(), raw->begin() + 32);
  sig.s.assign(raw->begin() + 32, raw->end());
  CHECK(VerifyQuote(key->get(), attest, sig, kNonce, Pcrs()).ok());
  CHECK(VerifyQuote(key->get(), attest, sig, Bytes{1, 2}, Pcrs()).status().code() ==
        Code::kRejected);
  PcrValues changed = Pcrs();
  changed[DigestAlg::kSha256][2][5] ^= 1;
  CHECK(VerifyQuote(key->get(), attest, sig, kNonce, changed).status().code() == Code::kRejected);
  PcrValues missing = Pcrs();
  missing[DigestAlg::kSha256].erase(2);
  CHECK(VerifyQuote(key->get(), attest, sig, kNonce, missing).status().code() ==
        Code::kInvalidInput);
  TpmSignature bad = sig;
  bad.s[0] ^= 1;
  CHECK(VerifyQuote(key->get(), attest, bad, kNonce, Pcrs()).status().code() == Code::kRejected);
}

TEST_CASE("A signed TPMS_ATTEST with a wrong PCR digest is rejected") {
  auto key = GenerateRsaKey(2048);
  REQUIRE(key.ok());
  Bytes attest = BuildAttest(kNonce, Bytes(32, 0));
  TpmSignature sig;
  sig.scheme = SigScheme::kRsaSsa;
  sig.sig = *SignRsaPkcs1(key->get(), DigestAlg::kSha256, attest);
  auto r = VerifyQuote(key->get(), attest, sig, kNonce, Pcrs());
  CHECK(r.status().code() == Code::kRejected);
}

TEST_CASE("TPMT_SIGNATURE parses ECDSA and RSASSA and refuses the rest") {
  Bytes ecdsa;
  Put16(ecdsa, 0x0018);
  Put16(ecdsa, 0x000B);
  Put2b(ecdsa, Bytes(32, 1));
  Put2b(ecdsa, Bytes(32, 2));
  auto e = ParseTpmSignature(ecdsa);
  REQUIRE(e.ok());
  CHECK(e->scheme == SigScheme::kEcdsa);
  CHECK(e->r == Bytes(32, 1));
  CHECK(e->s == Bytes(32, 2));

  Bytes rsa;
  Put16(rsa, 0x0014);
  Put16(rsa, 0x000C);
  Put2b(rsa, Bytes(256, 3));
  auto r = ParseTpmSignature(rsa);
  REQUIRE(r.ok());
  CHECK(r->hash == DigestAlg::kSha384);

  Bytes null_sig;
  Put16(null_sig, 0x0010);
  CHECK(ParseTpmSignature(null_sig).status().code() == Code::kInvalidInput);
  for (size_t n = 0; n < ecdsa.size(); ++n) {
    CHECK(ParseTpmSignature(ByteSpan(ecdsa).first(n)).status().code() == Code::kInvalidInput);
  }
}

}  // namespace
}  // namespace cvm::tpm
