#include "tpm/binding.h"

#include <algorithm>
#include <catch2/catch.hpp>

#include "common/digest.h"
#include "common/keys.h"

namespace cvm::tpm {
namespace {

Bytes Field(ByteSpan v) {
  // Sized once and filled in place: growing a 4-byte vector by insert() makes GCC 12 -O3 report
  // a false -Warray-bounds in the inlined memcpy.
  uint32_t n = static_cast<uint32_t>(v.size());
  Bytes out(4 + v.size());
  for (size_t i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>(n >> (24 - 8 * i));
  std::copy(v.begin(), v.end(), out.begin() + 4);
  return out;
}

TEST_CASE("The binding is SHA-512 over the label and the length-prefixed fields") {
  auto ak = GenerateEcKey(Curve::kP256);
  REQUIRE(ak.ok());
  Bytes nonce = {1, 2, 3}, eph = {9, 9};
  Bytes spki = *PublicKeyToDer(ak->get());
  std::string label = "cvm-agent/tee-tpm-binding/v1";
  Bytes msg(label.begin(), label.end());
  msg.push_back(0);
  for (const Bytes& f : {Field(nonce), Field(spki), Field(eph)})
    msg.insert(msg.end(), f.begin(), f.end());
  auto rd = BindingReportData(nonce, ak->get(), eph);
  REQUIRE(rd.ok());
  CHECK(*rd == Sha512(msg));
  CHECK(rd->size() == 64);
}

TEST_CASE("A binding verifies only for the same nonce, AK and ephemeral key") {
  auto ak = GenerateEcKey(Curve::kP256);
  auto other = GenerateEcKey(Curve::kP256);
  Bytes nonce = {1, 2, 3}, eph = {7};
  Bytes rd = *BindingReportData(nonce, ak->get(), eph);
  CHECK(VerifyBinding(rd, nonce, ak->get(), eph).ok());
  CHECK(VerifyBinding(rd, Bytes{1, 2, 4}, ak->get(), eph).code() == Code::kRejected);
  CHECK(VerifyBinding(rd, nonce, other->get(), eph).code() == Code::kRejected);
  CHECK(VerifyBinding(rd, nonce, ak->get(), {}).code() == Code::kRejected);
  Bytes changed = rd;
  changed[63] ^= 1;
  CHECK(VerifyBinding(changed, nonce, ak->get(), eph).code() == Code::kRejected);
  CHECK(VerifyBinding(ByteSpan(rd).first(32), nonce, ak->get(), eph).code() == Code::kInvalidInput);
}

TEST_CASE("Moving bytes between the nonce and the ephemeral key changes the binding") {
  auto ak = GenerateEcKey(Curve::kP256);
  CHECK(*BindingReportData(Bytes{1, 2}, ak->get(), Bytes{3}) !=
        *BindingReportData(Bytes{1}, ak->get(), Bytes{2, 3}));
}

}  // namespace
}  // namespace cvm::tpm
