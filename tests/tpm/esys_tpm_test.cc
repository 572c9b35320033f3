// The ESAPI Tpm against a real swtpm started for each test.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "common/encoding.h"
#include "common/file_util.h"
#include "common/keys.h"
#include "tests/testing/testing.h"
#include "tests/tpm/replay_util.h"
#include "tests/tpm/swtpm_fixture.h"
#include "tpm/appraise.h"
#include "tpm/attest.h"
#include "tpm/esys.h"
#include "tpm/eventlog.h"
#include "tpm/tpm.h"

namespace cvm::tpm {
namespace {

using testing::Swtpm;

const Bytes kNonce = {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04};

struct Fixture {
  Fixture() : swtpm(Swtpm::Start()) {
    REQUIRE(swtpm != nullptr);
    auto t = OpenTpm(swtpm->tcti());
    REQUIRE(t.ok());
    tpm = std::move(*t);
  }
  std::unique_ptr<Swtpm> swtpm;
  std::unique_ptr<Tpm> tpm;
};

PcrSelection Sel(const char* text) {
  auto s = ParsePcrSelection(text);
  REQUIRE(s.ok());
  return *s;
}

// Extends a PCR with tpm2-tools so the quoted values are not all zero.
void Extend(const Swtpm& swtpm, int pcr, const std::string& sha256_hex) {
  auto r = testing::Run({"/usr/bin/tpm2_pcrextend", "--tcti", swtpm.tcti(),
                         std::to_string(pcr) + ":sha256=" + sha256_hex});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

Result<Attest> Verify(const Quote& q, ByteSpan nonce) {
  CVM_ASSIGN_OR_RETURN(TpmSignature sig, ParseTpmSignature(q.signature));
  return VerifyQuote(q.ak.key.get(), q.attest, sig, nonce, q.pcrs);
}

TEST_CASE("TSS2 return codes become statuses with the decoded message") {
  CHECK(esys::RcStatus(TSS2_RC_SUCCESS, "x").ok());
  Status handle = esys::RcStatus(TPM2_RC_HANDLE | TPM2_RC_1, "TPM2_NV_ReadPublic");
  CHECK(handle.code() == Code::kNotFound);
  CHECK(handle.message().find("TPM2_NV_ReadPublic: tpm:handle(1)") == 0);
  CHECK(handle.message().find("(0x18b)") != std::string::npos);
  CHECK(esys::RcStatus(TPM2_RC_NV_UNINITIALIZED, "x").code() == Code::kNotFound);
  CHECK(esys::RcStatus(TPM2_RC_AUTH_FAIL | TPM2_RC_S | TPM2_RC_1, "x").code() ==
        Code::kPermissionDenied);
  CHECK(esys::RcStatus(TPM2_RC_RETRY, "x").code() == Code::kUnavailable);
  CHECK(esys::RcStatus(TSS2_TCTI_RC_LAYER | TSS2_BASE_RC_IO_ERROR, "x").code() ==
        Code::kUnavailable);
  CHECK(esys::RcStatus(TSS2_ESAPI_RC_LAYER | TSS2_BASE_RC_NO_CONNECTION, "x").code() ==
        Code::kUnavailable);
  CHECK(esys::RcStatus(TPM2_RC_SIGNATURE | TPM2_RC_P | TPM2_RC_2, "x").code() == Code::kIoError);
}

TEST_CASE("A quote from swtpm with the default ECC AK verifies with our verifier") {
  Fixture f;
  Extend(*f.swtpm, 7, std::string(64, 'a'));
  auto q = f.tpm->MakeQuote({}, kNonce, Sel("sha256:0,1,7"));
  REQUIRE(q.ok());
  auto a = Verify(*q, kNonce);
  INFO(a.status().ToString());
  REQUIRE(a.ok());
  CHECK(a->extra_data == kNonce);
  CHECK(FormatPcrSelection(a->pcr_selection) == "sha256:0,1,7");
  CHECK(q->pcrs.at(DigestAlg::kSha256).at(7) != Bytes(32, 0));
  CHECK(KeyType(q->ak.key.get()) == EVP_PKEY_EC);
}

TEST_CASE("A swtpm quote appraised with its AK public area names the AK as endorsement primary") {
  Fixture f;
  auto q = f.tpm->MakeQuote({}, kNonce, Sel("sha256:0,7"));
  REQUIRE(q.ok());
  auto sig = ParseTpmSignature(q->signature);
  REQUIRE(sig.ok());
  QuoteAppraiseOptions o;
  o.nonce = kNonce;
  o.ak_public_area = q->ak.public_area;
  auto a = AppraiseQuote(q->ak.key.get(), q->attest, *sig, q->pcrs, o);
  REQUIRE(a.ok());
  INFO(VerdictSummary(a->verdict));
  CHECK(a->verdict.verified);
  // The TPM signs with the qualified name, not the name.
  CHECK(a->attest->qualified_signer != q->ak.name);
  bool named = false;
  for (const auto& c : a->verdict.checks) {
    if (c.find("primary key of the endorsement hierarchy") != std::string::npos) named = true;
  }
  CHECK(named);
}

TEST_CASE("tpm2_checkquote accepts our AK PEM, TPMS_ATTEST and TPMT_SIGNATURE") {
  Fixture f;
  auto q = f.tpm->MakeQuote({}, kNonce, DefaultPcrSelection());
  REQUIRE(q.ok());
  testing::TempDir dir;
  auto pem = PublicKeyToPem(q->ak.key.get());
  REQUIRE(pem.ok());
  REQUIRE(WriteFileAtomic(dir.File("ak.pub.pem"), *pem).ok());
  REQUIRE(WriteFileAtomic(dir.File("quote.msg"), q->attest).ok());
  REQUIRE(WriteFileAtomic(dir.File("quote.sig"), q->signature).ok());
  auto r =
      testing::Run({"/usr/bin/tpm2_checkquote", "-u", dir.File("ak.pub.pem"), "-m",
                    dir.File("quote.msg"), "-s", dir.File("quote.sig"), "-q", HexEncode(kNonce)});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  auto wrong = testing::Run({"/usr/bin/tpm2_checkquote", "-u", dir.File("ak.pub.pem"), "-m",
                             dir.File("quote.msg"), "-s", dir.File("quote.sig"), "-q", "00"});
  CHECK(wrong.exit_code != 0);
}

TEST_CASE("A quote is rejected for another nonce") {
  Fixture f;
  auto q = f.tpm->MakeQuote({}, kNonce, Sel("sha256:0"));
  REQUIRE(q.ok());
  Bytes other = kNonce;
  other.back() ^= 1;
  CHECK(Verify(*q, other).status().code() == Code::kRejected);
  CHECK(Verify(*q, {}).status().code() == Code::kRejected);
}

TEST_CASE("A quote is rejected when a PCR value is changed") {
  Fixture f;
  auto q = f.tpm->MakeQuote({}, kNonce, Sel("sha256:0,7"));
  REQUIRE(q.ok());
  q->pcrs[DigestAlg::kSha256][7][0] ^= 1;
  auto a = Verify(*q, kNonce);
  CHECK(a.status().code() == Code::kRejected);
  CHECK(a.status().message().find("PCR digest") != std::string::npos);
}

TEST_CASE("A quote is rejected when any attest byte is changed") {
  Fixture f;
  auto q = f.tpm->MakeQuote({}, kNonce, Sel("sha256:0"));
  REQUIRE(q.ok());
  for (size_t i = 0; i < q->attest.size(); ++i) {
    Quote changed{q->attest, q->signature, q->pcrs, {}};
    changed.ak.key.reset(EVP_PKEY_dup(q->ak.key.get()));
    changed.attest[i] ^= 0x40;
    INFO("byte " << i);
    CHECK(Verify(changed, kNonce).status().code() == Code::kRejected);
  }
}

TEST_CASE("A quote is rejected with another AK, of the same or the other type") {
  Fixture f;
  auto q = f.tpm->MakeQuote({}, kNonce, Sel("sha256:0"));
  REQUIRE(q.ok());
  auto sig = ParseTpmSignature(q->signature);
  REQUIRE(sig.ok());
  auto ec = GenerateEcKey(Curve::kP256);
  auto rsa = GenerateRsaKey(2048);
  REQUIRE((ec.ok() && rsa.ok()));
  CHECK(VerifyQuote(ec->get(), q->attest, *sig, kNonce, q->pcrs).status().code() ==
        Code::kRejected);
  CHECK(VerifyQuote(rsa->get(), q->attest, *sig, kNonce, q->pcrs).status().code() ==
        Code::kRejected);
}

TEST_CASE("An RSA-2048 AK quotes with RSASSA and the quote verifies") {
  Fixture f;
  AkOptions ak;
  ak.alg = AkAlg::kRsa2048;
  auto q = f.tpm->MakeQuote(ak, kNonce, Sel("sha256:0-3"));
  REQUIRE(q.ok());
  CHECK(KeyType(q->ak.key.get()) == EVP_PKEY_RSA);
  auto sig = ParseTpmSignature(q->signature);
  REQUIRE(sig.ok());
  CHECK(sig->scheme == SigScheme::kRsaSsa);
  CHECK(Verify(*q, kNonce).ok());
}

TEST_CASE("The created AK is the same key every time") {
  Fixture f;
  auto a = f.tpm->ReadAk({});
  auto b = f.tpm->ReadAk({});
  REQUIRE((a.ok() && b.ok()));
  CHECK(a->public_area == b->public_area);
  CHECK(a->name.size() == 34);  // TPM_ALG_SHA256 || SHA-256
  CHECK(a->name == b->name);
}

TEST_CASE("Fifty quotes in a row against plain swtpm leave no transient handle behind") {
  Fixture f;
  for (int i = 0; i < 50; ++i) {
    Bytes nonce = {static_cast<uint8_t>(i), 0x55};
    auto q = f.tpm->MakeQuote({}, nonce, DefaultPcrSelection());
    REQUIRE(q.ok());
    REQUIRE(Verify(*q, nonce).ok());
  }
  auto count = f.tpm->TransientObjectCount();
  REQUIRE(count.ok());
  CHECK(*count == 0);
}

TEST_CASE("Failed quotes leave no transient handle behind either") {
  Fixture f;
  AkOptions missing;
  missing.persistent_handle = 0x81000099;
  for (int i = 0; i < 5; ++i) {
    CHECK(!f.tpm->MakeQuote(missing, kNonce, DefaultPcrSelection()).ok());
    CHECK(f.tpm->MakeQuote({}, kNonce, DefaultPcrSelection()).ok());
  }
  CHECK(*f.tpm->TransientObjectCount() == 0);
}

TEST_CASE("Opening a TPM context leaves the environment alone (no setenv in the library)") {
  const char* saved = std::getenv("TSS2_LOG");
  std::string saved_value = saved ? saved : "";
  ::unsetenv("TSS2_LOG");
  // A TCTI that fails to load still goes through Context::Open's whole setup path.
  auto ctx = esys::Context::Open("swtpm:host=127.0.0.1,port=1");
  CHECK_FALSE(ctx.ok());
  CHECK(std::getenv("TSS2_LOG") == nullptr);
  if (saved != nullptr) ::setenv("TSS2_LOG", saved_value.c_str(), 1);
}

TEST_CASE("An ESYS object owner flushes its transient object when it goes out of scope") {
  Fixture f;
  auto ctx = esys::Context::Open(f.swtpm->tcti());
  REQUIRE(ctx.ok());
  TPM2B_PUBLIC tmpl{};
  tmpl.publicArea.type = TPM2_ALG_KEYEDHASH;
  tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
  tmpl.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                     TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                                     TPMA_OBJECT_SIGN_ENCRYPT;
  tmpl.publicArea.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_HMAC;
  tmpl.publicArea.parameters.keyedHashDetail.scheme.details.hmac.hashAlg = TPM2_ALG_SHA256;
  {
    auto primary = ctx->CreatePrimary(ESYS_TR_RH_OWNER, tmpl);
    REQUIRE(primary.ok());
    CHECK(*f.tpm->TransientObjectCount() == 1);
  }
  CHECK(*f.tpm->TransientObjectCount() == 0);
}

TEST_CASE("A nonce longer than 64 bytes and an empty selection are invalid input") {
  Fixture f;
  CHECK(f.tpm->MakeQuote({}, Bytes(65, 1), DefaultPcrSelection()).status().code() ==
        Code::kInvalidInput);
  CHECK(f.tpm->MakeQuote({}, kNonce, PcrSelection{}).status().code() == Code::kInvalidInput);
}

TEST_CASE("All 24 sha256 PCRs are read, across several TPM2_PCR_Read calls") {
  Fixture f;
  Extend(*f.swtpm, 16, std::string(64, 'b'));
  auto v = f.tpm->ReadPcrs(Sel("sha256:0-23+sha1:0-23"));
  REQUIRE(v.ok());
  CHECK(v->at(DigestAlg::kSha256).size() == 24);
  CHECK(v->at(DigestAlg::kSha1).size() == 24);
  CHECK(v->at(DigestAlg::kSha256).at(16) != Bytes(32, 0));
  CHECK(v->at(DigestAlg::kSha256).at(15) == Bytes(32, 0));
}

TEST_CASE("Extending a PCR sets it to H(old value || digest) in each bank given") {
  Fixture f;
  Bytes d256(32, 0x5A), d1(20, 0x11);
  REQUIRE(f.tpm->ExtendPcr(9, {{DigestAlg::kSha256, d256}, {DigestAlg::kSha1, d1}}).ok());
  auto v = f.tpm->ReadPcrs(Sel("sha256:9+sha1:9"));
  REQUIRE(v.ok());
  Bytes zeros256(32, 0), zeros1(20, 0);
  zeros256.insert(zeros256.end(), d256.begin(), d256.end());
  zeros1.insert(zeros1.end(), d1.begin(), d1.end());
  CHECK(v->at(DigestAlg::kSha256).at(9) == Sha256(zeros256));
  CHECK(v->at(DigestAlg::kSha1).at(9) == Digest(DigestAlg::kSha1, zeros1));
  CHECK(f.tpm->ExtendPcr(9, {{DigestAlg::kSha256, Bytes(31, 0)}}).code() == Code::kInvalidInput);
  CHECK(f.tpm->ExtendPcr(24, {{DigestAlg::kSha256, d256}}).code() == Code::kInvalidInput);
}

TEST_CASE("A quote of PCRs measured as a real event log records them validates against that log") {
  Fixture f;
  auto log = tcg::ParseEventLog(testing::ReadData("vectors/tpm/rhel8-uefi.bin"));
  REQUIRE(log.ok());
  REQUIRE(testing::ReplayIntoTpm(*f.tpm, *log, 1, 9).ok());
  auto q = f.tpm->MakeQuote({}, kNonce, Sel("sha256:1-9+sha1:1-9+sha384:1-9"));
  REQUIRE(q.ok());
  REQUIRE(Verify(*q, kNonce).ok());
  Status st = ValidatePcrsAgainstEventLog(q->pcrs, *log);
  INFO(st.ToString());
  CHECK(st.ok());
  // One more measurement the log does not record is caught.
  REQUIRE(f.tpm->ExtendPcr(4, {{DigestAlg::kSha256, Bytes(32, 1)}}).ok());
  auto q2 = f.tpm->MakeQuote({}, kNonce, Sel("sha256:1-9"));
  REQUIRE(q2.ok());
  Status bad = ValidatePcrsAgainstEventLog(q2->pcrs, *log);
  CHECK(bad.code() == Code::kRejected);
  CHECK(bad.message().find("sha256:4") != std::string::npos);
}

TEST_CASE("A persistent AK is used when configured") {
  Fixture f;
  testing::TempDir dir;
  std::string tcti = f.swtpm->tcti();
  // Without a resource manager tpm2-tools leaves its objects loaded: flush after each step.
  auto flush = [&] { testing::Run({"/usr/bin/tpm2_flushcontext", "--tcti", tcti, "-t"}); };
  auto ek = testing::Run(
      {"/usr/bin/tpm2_createek", "--tcti", tcti, "-c", dir.File("ek.ctx"), "-G", "ecc"});
  REQUIRE(ek.exit_code == 0);
  flush();
  auto ak = testing::Run({"/usr/bin/tpm2_createak", "--tcti", tcti, "-C", dir.File("ek.ctx"), "-c",
                          dir.File("ak.ctx"), "-G", "ecc", "-g", "sha256", "-s", "ecdsa"});
  INFO(ak.err);
  REQUIRE(ak.exit_code == 0);
  flush();
  auto evict = testing::Run({"/usr/bin/tpm2_evictcontrol", "--tcti", tcti, "-C", "o", "-c",
                             dir.File("ak.ctx"), "0x81000003"});
  INFO(evict.err);
  REQUIRE(evict.exit_code == 0);
  flush();

  AkOptions options;
  options.persistent_handle = kAzureAkHandle;
  auto q = f.tpm->MakeQuote(options, kNonce, Sel("sha256:0"));
  REQUIRE(q.ok());
  CHECK(Verify(*q, kNonce).ok());
  auto created = f.tpm->ReadAk({});
  REQUIRE(created.ok());
  CHECK(created->public_area != q->ak.public_area);
  CHECK(*f.tpm->TransientObjectCount() == 0);
}

TEST_CASE("A persistent AK that does not exist is not found") {
  Fixture f;
  AkOptions options;
  options.persistent_handle = 0x81000099;
  CHECK(f.tpm->MakeQuote(options, kNonce, Sel("sha256:0")).status().code() == Code::kNotFound);
}

TEST_CASE("NV data written to a new index reads back, across chunks") {
  Fixture f;
  Bytes data(1500);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  REQUIRE(f.tpm->NvWrite(0x01500010, data).ok());
  auto back = f.tpm->NvRead(0x01500010);
  REQUIRE(back.ok());
  CHECK(*back == data);
  Bytes update(1500, 0x42);
  REQUIRE(f.tpm->NvWrite(0x01500010, update).ok());
  CHECK(*f.tpm->NvRead(0x01500010) == update);
}

TEST_CASE("An NV index that is not defined is not found") {
  Fixture f;
  auto r = f.tpm->NvRead(0x01400001);
  CHECK(r.status().code() == Code::kNotFound);
  CHECK(r.status().ToString().find("0x01400001") != std::string::npos);
}

TEST_CASE("An NV certificate is cut at its DER length") {
  Fixture f;
  Bytes cert = {0x30, 0x03, 0x02, 0x01, 0x05};
  Bytes padded = cert;
  padded.resize(64, 0);
  REQUIRE(f.tpm->NvWrite(kEkCertNvEcc, padded).ok());
  auto r = ReadNvCertificate(*f.tpm, kEkCertNvEcc);
  REQUIRE(r.ok());
  CHECK(*r == cert);
  CHECK(ReadNvCertificate(*f.tpm, kEkCertNvRsa).status().code() == Code::kNotFound);
}

TEST_CASE("An unknown TCTI name is invalid input") {
  CHECK(OpenTpm("nonsense:foo").status().code() == Code::kInvalidInput);
}

TEST_CASE("A TCTI with nothing listening is unavailable") {
  std::unique_ptr<Swtpm> s = Swtpm::Start();
  REQUIRE(s);
  std::string tcti = s->tcti();
  s.reset();
  auto t = OpenTpm(tcti);
  CHECK(t.status().code() == Code::kUnavailable);
}

}  // namespace
}  // namespace cvm::tpm
