// The software FakeTpm: its quotes are real enough for our verifier and for tpm2-tools.
#include "tests/testing/fake_tpm.h"

#include <catch2/catch.hpp>

#include "common/encoding.h"
#include "common/file_util.h"
#include "common/keys.h"
#include "tests/testing/testing.h"
#include "tpm/attest.h"
#include "tpm/hcl.h"

namespace cvm::tpm {
namespace {

const Bytes kNonce = {9, 8, 7, 6};

Result<Attest> Verify(const Quote& q, ByteSpan nonce) {
  CVM_ASSIGN_OR_RETURN(TpmSignature sig, ParseTpmSignature(q.signature));
  return VerifyQuote(q.ak.key.get(), q.attest, sig, nonce, q.pcrs);
}

TEST_CASE("A fake quote verifies with our verifier, with either AK type") {
  FakeTpm tpm;
  for (AkAlg alg : {AkAlg::kEcP256, AkAlg::kRsa2048}) {
    AkOptions ak;
    ak.alg = alg;
    auto q = tpm.MakeQuote(ak, kNonce, DefaultPcrSelection());
    REQUIRE(q.ok());
    auto a = Verify(*q, kNonce);
    INFO(a.status().ToString());
    CHECK(a.ok());
    CHECK(Verify(*q, Bytes{1}).status().code() == Code::kRejected);
  }
  CHECK(tpm.quotes() == 2);
}

TEST_CASE("tpm2_checkquote accepts a fake quote") {
  FakeTpm tpm;
  auto q = tpm.MakeQuote({}, kNonce, DefaultPcrSelection());
  REQUIRE(q.ok());
  testing::TempDir dir;
  REQUIRE(WriteFileAtomic(dir.File("ak.pem"), *PublicKeyToPem(q->ak.key.get())).ok());
  REQUIRE(WriteFileAtomic(dir.File("msg"), q->attest).ok());
  REQUIRE(WriteFileAtomic(dir.File("sig"), q->signature).ok());
  auto r = testing::Run({"/usr/bin/tpm2_checkquote", "-u", dir.File("ak.pem"), "-m",
                         dir.File("msg"), "-s", dir.File("sig"), "-q", HexEncode(kNonce)});
  INFO(r.err);
  CHECK(r.exit_code == 0);
}

TEST_CASE("Fake PCRs extend, and a quote over them is rejected with the old values") {
  FakeTpm tpm;
  auto sel = ParsePcrSelection("sha256:7");
  auto before = tpm.ReadPcrs(*sel);
  REQUIRE(tpm.ExtendPcr(7, {{DigestAlg::kSha256, Bytes(32, 1)}}).ok());
  auto q = tpm.MakeQuote({}, kNonce, *sel);
  REQUIRE(q.ok());
  CHECK(q->pcrs != *before);
  Quote stale{q->attest, q->signature, *before, {}};
  stale.ak.key.reset(EVP_PKEY_dup(q->ak.key.get()));
  CHECK(Verify(stale, kNonce).status().code() == Code::kRejected);
}

TEST_CASE("The fake AK is stable, and a persistent AK must be added first") {
  FakeTpm tpm;
  CHECK(tpm.ReadAk({})->public_area == tpm.ReadAk({})->public_area);
  AkOptions persistent;
  persistent.persistent_handle = kAzureAkHandle;
  CHECK(tpm.ReadAk(persistent).status().code() == Code::kNotFound);
  tpm.AddPersistentAk(kAzureAkHandle, AkAlg::kRsa2048);
  auto q = tpm.MakeQuote(persistent, kNonce, DefaultPcrSelection());
  REQUIRE(q.ok());
  CHECK(KeyType(q->ak.key.get()) == EVP_PKEY_RSA);
  CHECK(Verify(*q, kNonce).ok());
}

TEST_CASE("An injected failure is returned once") {
  FakeTpm tpm;
  tpm.FailNext(Unavailable("TPM busy"));
  CHECK(tpm.MakeQuote({}, kNonce, DefaultPcrSelection()).status().code() == Code::kUnavailable);
  CHECK(tpm.MakeQuote({}, kNonce, DefaultPcrSelection()).ok());
}

TEST_CASE("Fake NV indices are defined on first write and keep their size") {
  FakeTpm tpm;
  CHECK(tpm.NvRead(kHclReportNvIndex).status().code() == Code::kNotFound);
  REQUIRE(tpm.NvWrite(0x01500000, Bytes(8, 1)).ok());
  REQUIRE(tpm.NvWrite(0x01500000, Bytes(4, 2)).ok());
  CHECK(*tpm.NvRead(0x01500000) == Bytes({2, 2, 2, 2, 1, 1, 1, 1}));
  CHECK(tpm.NvWrite(0x01500000, Bytes(9, 0)).code() == Code::kInvalidInput);
}

}  // namespace
}  // namespace cvm::tpm
