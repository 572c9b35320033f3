// cvmctl kbs, run as a process: option handling and exit codes (the protocol itself is covered
// by kbs_client_test.cc).
#include <catch2/catch.hpp>

#include "tests/testing/testing.h"

namespace cvm {
namespace {

std::string Cvmctl() { return testing::BinaryDir() + "/cli/cvmctl"; }

TEST_CASE("cvmctl kbs refuses options that do not apply, with exit 2") {
  auto no_url =
      testing::Run({Cvmctl(), "kbs", "attest", "--tee", "sim-snp", "--sim", "/nonexistent"});
  CHECK(no_url.exit_code == 2);
  CHECK(no_url.err.find("--url") != std::string::npos);

  auto sim_for_hw = testing::Run(
      {Cvmctl(), "kbs", "attest", "--url", "http://127.0.0.1:1", "--tee", "snp", "--sim", "/tmp"});
  CHECK(sim_for_hw.exit_code == 2);
  CHECK(sim_for_hw.err.find("--sim applies only") != std::string::npos);

  auto ca_for_http = testing::Run({Cvmctl(), "kbs", "attest", "--url", "http://127.0.0.1:1",
                                   "--ca-file", "/etc/ssl/certs/ca-certificates.crt"});
  CHECK(ca_for_http.exit_code == 2);
  CHECK(ca_for_http.err.find("https:// URLs only") != std::string::npos);

  auto bad_pin = testing::Run(
      {Cvmctl(), "kbs", "attest", "--url", "https://127.0.0.1:1", "--pin-sha256", "abc"});
  CHECK(bad_pin.exit_code == 2);

  auto bad_path = testing::Run(
      {Cvmctl(), "kbs", "get-resource", "--url", "http://127.0.0.1:1", "--path", "a/../b"});
  CHECK(bad_path.exit_code == 2);

  auto other_tee =
      testing::Run({Cvmctl(), "kbs", "attest", "--url", "http://127.0.0.1:1", "--tee", "sgx"});
  CHECK(other_tee.exit_code == 2);
}

TEST_CASE("cvmctl kbs attest exits 3 when no relying party answers") {
  testing::TempDir dir;
  auto init = testing::Run({Cvmctl(), "sim", "init", dir.File("sim"), "--tee", "snp"});
  REQUIRE(init.exit_code == 0);
  auto r = testing::Run({Cvmctl(), "kbs", "attest", "--url", "http://127.0.0.1:1", "--url",
                         "http://127.0.0.1:2", "--no-proxy", "--tee", "sim-snp", "--sim",
                         dir.File("sim")});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("no relying party attested us") != std::string::npos);
  CHECK(r.err.find("127.0.0.1:2") != std::string::npos);
}

}  // namespace
}  // namespace cvm
