#include <catch2/catch.hpp>

#include "common/digest.h"
#include "common/encoding.h"
#include "common/keys.h"
#include "common/signature.h"
#include "common/x509.h"
#include "tests/testing/testing.h"

namespace cvm {
namespace {

TEST_CASE("SHA-2 digests match FIPS 180 test vectors") {
  CHECK(HexEncode(Sha256(AsBytes("abc"))) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(HexEncode(Sha384(AsBytes("abc"))) ==
        "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
        "8086072ba1e7cc2358baeca134c825a7");
  CHECK(HexEncode(Sha512(AsBytes(""))).substr(0, 32) == "cf83e1357eefb8bdf1542850d66d8007");
  CHECK(HexEncode(Digest(DigestAlg::kSha1, AsBytes("abc"))) ==
        "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST_CASE("Incremental hashing equals one-shot hashing") {
  Hasher h(DigestAlg::kSha256);
  h.Update(AsBytes("a")).Update(AsBytes("bc"));
  CHECK(h.Finish() == Sha256(AsBytes("abc")));
}

TEST_CASE("ECDSA signatures verify, in DER and raw form, and fail when anything changes") {
  for (Curve curve : {Curve::kP256, Curve::kP384}) {
    auto key = GenerateEcKey(curve);
    REQUIRE(key.ok());
    DigestAlg alg = curve == Curve::kP256 ? DigestAlg::kSha256 : DigestAlg::kSha384;
    Bytes msg = {1, 2, 3, 4};
    auto der = SignEcdsaDer(key->get(), alg, msg);
    REQUIRE(der.ok());
    CHECK(VerifyEcdsaDer(key->get(), alg, msg, *der).ok());

    size_t w = CurveFieldSize(curve);
    auto raw = EcdsaDerToRaw(*der, w);
    REQUIRE(raw.ok());
    ByteSpan r = ByteSpan(*raw).first(w), s = ByteSpan(*raw).subspan(w);
    CHECK(VerifyEcdsaRaw(key->get(), alg, msg, r, s).ok());

    Bytes changed = msg;
    changed[0] ^= 1;
    CHECK(VerifyEcdsaDer(key->get(), alg, changed, *der).code() == Code::kRejected);
    Bytes bad_sig = *raw;
    bad_sig[w - 1] ^= 1;
    CHECK(VerifyEcdsaRaw(key->get(), alg, msg, ByteSpan(bad_sig).first(w),
                         ByteSpan(bad_sig).subspan(w))
              .code() == Code::kRejected);
    auto other = GenerateEcKey(curve);
    CHECK(VerifyEcdsaDer(other->get(), alg, msg, *der).code() == Code::kRejected);
  }
}

TEST_CASE("A zero or garbage ECDSA signature is rejected, not a crash") {
  auto key = GenerateEcKey(Curve::kP256);
  Bytes zero(32, 0);
  CHECK(VerifyEcdsaRaw(key->get(), DigestAlg::kSha256, Bytes{1}, zero, zero).code() ==
        Code::kRejected);
  CHECK(VerifyEcdsaDer(key->get(), DigestAlg::kSha256, Bytes{1}, Bytes{0x30, 0x01}).code() ==
        Code::kRejected);
  CHECK_FALSE(EcdsaDerToRaw(Bytes{0x30, 0x00, 0x01}, 32).ok());
}

TEST_CASE("RSA-PSS and PKCS#1 signatures verify and reject tampering") {
  auto key = GenerateRsaKey(2048);
  REQUIRE(key.ok());
  Bytes msg = {9, 9, 9};
  auto pss = SignRsaPss(key->get(), DigestAlg::kSha384, msg);
  REQUIRE(pss.ok());
  CHECK(VerifyRsaPss(key->get(), DigestAlg::kSha384, msg, *pss).ok());
  CHECK(VerifyRsaPss(key->get(), DigestAlg::kSha384, msg, *pss, 48).ok());
  CHECK(VerifyRsaPkcs1(key->get(), DigestAlg::kSha384, msg, *pss).code() == Code::kRejected);
  (*pss)[10] ^= 0x80;
  CHECK(VerifyRsaPss(key->get(), DigestAlg::kSha384, msg, *pss).code() == Code::kRejected);

  auto pkcs1 = SignRsaPkcs1(key->get(), DigestAlg::kSha256, msg);
  REQUIRE(pkcs1.ok());
  CHECK(VerifyRsaPkcs1(key->get(), DigestAlg::kSha256, msg, *pkcs1).ok());
}

TEST_CASE("A key of the wrong type is unusable input") {
  auto ec = GenerateEcKey(Curve::kP256);
  CHECK(VerifyRsaPss(ec->get(), DigestAlg::kSha256, Bytes{1}, Bytes{1}).code() ==
        Code::kInvalidInput);
}

TEST_CASE("EC public keys round-trip through X||Y; points off the curve are refused") {
  auto key = GenerateEcKey(Curve::kP256);
  auto xy = EcPublicKeyXY(key->get());
  REQUIRE(xy.ok());
  REQUIRE(xy->size() == 64);
  auto back = EcPublicKeyFromXY(Curve::kP256, ByteSpan(*xy).first(32), ByteSpan(*xy).subspan(32));
  REQUIRE(back.ok());
  CHECK(*EcPublicKeyXY(back->get()) == *xy);
  Bytes bad = *xy;
  bad[63] ^= 1;
  CHECK(EcPublicKeyFromXY(Curve::kP256, ByteSpan(bad).first(32), ByteSpan(bad).subspan(32))
            .status()
            .code() == Code::kInvalidInput);
  CHECK_FALSE(
      EcPublicKeyFromXY(Curve::kP384, ByteSpan(*xy).first(32), ByteSpan(*xy).subspan(32)).ok());
}

TEST_CASE("RSA public keys round-trip through modulus and exponent") {
  auto key = GenerateRsaKey(2048);
  auto ne = RsaPublicKeyNE(key->get());
  REQUIRE(ne.ok());
  auto back = RsaPublicKeyFromNE(ne->first, ne->second);
  REQUIRE(back.ok());
  CHECK(*PublicKeyToDer(back->get()) == *PublicKeyToDer(key->get()));
  CHECK_FALSE(RsaPublicKeyFromNE(Bytes{0x01}, Bytes{0x03}).ok());
}

TEST_CASE("PEM keys round-trip; garbage is refused") {
  auto key = GenerateEcKey(Curve::kP384);
  auto pub = PublicKeyToPem(key->get());
  auto priv = PrivateKeyToPem(key->get());
  REQUIRE(pub.ok());
  REQUIRE(priv.ok());
  CHECK(PublicKeyFromPem(*pub).ok());
  CHECK(PrivateKeyFromPem(priv->chars()).ok());
  CHECK(priv->chars().starts_with("-----BEGIN PRIVATE KEY-----"));
  CHECK(PublicKeyFromPem("not a key").status().code() == Code::kInvalidInput);
  CHECK(PublicKeyFromDer(Bytes{0x30, 0x03, 0x02, 0x01, 0x00}).status().code() ==
        Code::kInvalidInput);
}

// A real Milan report (google/go-sev-guest test data): ECDSA P-384 over bytes 0..0x29F, r and s
// stored as 72-byte little-endian integers at 0x2A0 and 0x2E8.
TEST_CASE("The real Milan report's signature verifies with its VCEK") {
  Bytes report = testing::ReadData("vectors/snp/milan-v2/report.bin");
  auto vcek = Certificate::FromDer(testing::ReadData("vectors/snp/milan-v2/vcek.der"));
  REQUIRE(vcek.ok());
  auto key = vcek->PublicKey();
  REQUIRE(key.ok());
  auto be = [&](size_t off) {
    Bytes v(report.begin() + static_cast<long>(off), report.begin() + static_cast<long>(off + 72));
    std::reverse(v.begin(), v.end());
    return v;
  };
  ByteSpan signed_part = ByteSpan(report).first(0x2a0);
  CHECK(VerifyEcdsaRaw(key->get(), DigestAlg::kSha384, signed_part, be(0x2a0), be(0x2e8)).ok());
  report[0x90] ^= 1;
  CHECK(VerifyEcdsaRaw(key->get(), DigestAlg::kSha384, ByteSpan(report).first(0x2a0), be(0x2a0),
                       be(0x2e8))
            .code() == Code::kRejected);
}

}  // namespace
}  // namespace cvm
