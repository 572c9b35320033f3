#include "tests/luks/rp_process.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <vector>

#include "common/file_util.h"
#include "common/keys.h"
#include "snp/sim.h"

namespace cvm::luks::testing {

using namespace std::chrono_literals;

const char kZeroMeasurement[] =
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000";
const char kOtherMeasurement[] =
    "111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
    "111";
const char kRpSecret[] = "integration secret released by cvm-rp";

namespace {

void Write(const std::string& path, std::string_view text, mode_t mode = 0644) {
  REQUIRE(WriteFileAtomic(path, text, mode).ok());
}

}  // namespace

void CreateSimSnp(const ::cvm::testing::TempDir& dir) {
  auto sim = snp::SimSnp::Create(snp::SimPlatform{}, dir.File("sim"));
  REQUIRE(sim.ok());
}

RelyingParty::RelyingParty(const ::cvm::testing::TempDir& dir, const std::string& measurement)
    : RelyingParty(dir, RelyingPartyOptions{{measurement}, false}) {}

RelyingParty::RelyingParty(const ::cvm::testing::TempDir& dir, const RelyingPartyOptions& options) {
  auto key = GenerateEcKey(Curve::kP256);
  REQUIRE(key.ok());
  auto priv = PrivateKeyToPem(key->get());
  REQUIRE(priv.ok());
  Write(dir.File("token.key"), priv->chars(), 0600);
  auto pub = PublicKeyToPem(key->get());
  REQUIRE(pub.ok());
  Write(dir.File("token.pub"), *pub);
  std::string measurements;
  for (const auto& m : options.measurements) {
    measurements += (measurements.empty() ? "" : "\", \"") + m;
  }
  Write(dir.File("policy.yaml"),
        "version: 1\ndefault:\n  tee: [snp]\n  allow_simulated: true\n"
        "  allow_debug: false\n  max_evidence_age: 5m\n"
        "  snp_measurements: [\"" +
            measurements + "\"]\n");
  Write(dir.File("cvm-rp.yaml"),
        std::string("listen:\n  - {address: 127.0.0.1, port: 0}\n"
                    "token_key: token.key\npolicy: policy.yaml\n"
                    "resources:\n  inline:\n"
                    "    default/key/app: {value: \"") +
            kRpSecret +
            "\"}\n"
            "session_timeout: 5m\nthreads: 2\naudit_log: audit.log\n"
            "diagnostic_header: true\n"
            "trust_anchors:\n  snp_roots: [sim/ark.pem]\n" +
            (options.vm_resources ? "vm_resources: {dir: vm-resources}\n" : ""));
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{::cvm::testing::BinaryDir() + "/rp/cvm-rp", "--config",
                               dir.File("cvm-rp.yaml")},
      dir.File("cvm-rp.log"));
  const std::string marker = "serving the KBS protocol on http://127.0.0.1:";
  bool serving = process_->WaitForLog(marker, 20s);
  INFO("cvm-rp log:\n" << process_->Log());
  REQUIRE(serving);
  std::string log = process_->Log();
  size_t at = log.find(marker) + marker.size();
  url_ = "http://127.0.0.1:" + log.substr(at, log.find('/', at) - at);
}

}  // namespace cvm::luks::testing
