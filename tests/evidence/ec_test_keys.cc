#include "tests/evidence/ec_test_keys.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include <catch2/catch.hpp>

#include "common/encoding.h"

namespace cvm::testing {
namespace {

using Group = std::unique_ptr<EC_GROUP, ossl::Deleter<EC_GROUP_free>>;
using Point = std::unique_ptr<EC_POINT, ossl::Deleter<EC_POINT_free>>;
using ParamBld = std::unique_ptr<OSSL_PARAM_BLD, ossl::Deleter<OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, ossl::Deleter<OSSL_PARAM_free>>;

ossl::PKey FromScalar(const char* group_name, const Bytes& d) {
  int nid = std::string_view(group_name) == "secp521r1" ? NID_secp521r1 : NID_X9_62_prime256v1;
  Group group(EC_GROUP_new_by_curve_name(nid));
  REQUIRE(group);
  ossl::Bn priv(BN_bin2bn(d.data(), static_cast<int>(d.size()), nullptr));
  Point pub(EC_POINT_new(group.get()));
  REQUIRE(EC_POINT_mul(group.get(), pub.get(), priv.get(), nullptr, nullptr, nullptr) == 1);
  Bytes octets(1 + 2 * 66);
  size_t len = EC_POINT_point2oct(group.get(), pub.get(), POINT_CONVERSION_UNCOMPRESSED,
                                  octets.data(), octets.size(), nullptr);
  REQUIRE(len > 0);
  octets.resize(len);
  ParamBld bld(OSSL_PARAM_BLD_new());
  REQUIRE(OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group_name, 0));
  REQUIRE(OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get()));
  REQUIRE(OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, octets.data(),
                                           octets.size()));
  Params params(OSSL_PARAM_BLD_to_param(bld.get()));
  ossl::PKeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  REQUIRE(EVP_PKEY_fromdata_init(ctx.get()) == 1);
  REQUIRE(EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params.get()) == 1);
  return ossl::PKey(raw);
}

}  // namespace

ossl::PKey EcPrivateKey(const char* group, std::string_view d_hex) {
  auto d = HexDecode(d_hex);
  REQUIRE(d.ok());
  return FromScalar(group, *d);
}

ossl::PKey EcPrivateKeyB64(const char* group, std::string_view d_b64url) {
  auto d = Base64UrlDecode(d_b64url);
  REQUIRE(d.ok());
  return FromScalar(group, *d);
}

}  // namespace cvm::testing
