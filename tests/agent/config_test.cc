#include "agent/config.h"

#include <catch2/catch.hpp>

#include "common/file_util.h"
#include "tests/testing/testing.h"

namespace cvm::agent {
namespace {

constexpr const char* kGood = R"(tee: snp
relying_parties:
  - url: https://kbs.example.com:8080
    ca_file: /etc/cvm-agent/kbs-ca.pem
timeouts:
  deadline: 2m
  backoff_initial: 500ms
  backoff_max: 30s
  jitter: 0.1
resources:
  - name: db-password
    path: default/app/db
    sinks:
      file: {owner: root, group: root, mode: "0640"}
      credential: {units: [app.service]}
      api: {uids: [0]}
  - name: root-key
    path: default/luks/root
    sinks:
      cryptsetup: {volume: root, keyfile: true}
api:
  tcp_port: 8006
)";

std::string ErrorOf(std::string_view yaml) {
  auto c = ParseConfig(yaml, "test.yaml");
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == Code::kInvalidInput);
  return c.status().message();
}

TEST_CASE("A complete configuration parses with its defaults filled in") {
  auto c = ParseConfig(kGood, "test.yaml");
  REQUIRE(c.ok());
  CHECK(c->tee == TeeSetting::kSnp);
  REQUIRE(c->relying_parties.size() == 1);
  CHECK(c->relying_parties[0].url == "https://kbs.example.com:8080");
  CHECK(c->timeouts.deadline == std::chrono::minutes(2));
  CHECK(c->timeouts.backoff_initial == std::chrono::milliseconds(500));
  REQUIRE(c->resources.size() == 2);
  const auto& db = c->resources[0];
  REQUIRE(db.file);
  CHECK(db.file->name == "db-password");  // defaults to the resource name
  CHECK(db.file->mode == 0640);
  REQUIRE(db.credential);
  CHECK(db.credential->name == "db-password");
  CHECK(db.credential->units == std::vector<std::string>{"app.service"});
  REQUIRE(c->resources[1].cryptsetup);
  CHECK(c->resources[1].cryptsetup->keyfile);
  CHECK(c->api.socket == "/run/cvm-agent/api.sock");
  CHECK(c->api.tcp_port == 8006);
  CHECK(c->paths.secrets_dir == "/run/cvm-agent/secrets");
}

TEST_CASE("An empty file is the default configuration") {
  auto c = ParseConfig("", "empty.yaml");
  REQUIRE(c.ok());
  CHECK(c->tee == TeeSetting::kAuto);
  CHECK(c->resources.empty());
}

TEST_CASE("An unknown key is an error naming file, line and column") {
  std::string e = ErrorOf("tee: snp\ntimeouts:\n  deadlin: 5m\n");
  CHECK(e.find("test.yaml:3:3: timeouts.deadlin: unknown key") != std::string::npos);
}

TEST_CASE("A value of the wrong type is an error at its position") {
  std::string e = ErrorOf("resources: 12\n");
  CHECK(e.find("test.yaml:1:12: resources: expected a list") != std::string::npos);
  e = ErrorOf("api:\n  tcp_port: [1]\n");
  CHECK(e.find("test.yaml:2:13: api.tcp_port") != std::string::npos);
}

TEST_CASE("Every error in the file is reported, not just the first") {
  std::string e = ErrorOf("tee: sgx\napi:\n  tcp_port: 70000\nlog_level: loud\n");
  CHECK(e.find("test.yaml:1:6: tee: unknown TEE 'sgx'") != std::string::npos);
  CHECK(e.find("test.yaml:3:13: api.tcp_port: 70000 is larger than 65535") != std::string::npos);
  CHECK(e.find("test.yaml:4:12: log_level") != std::string::npos);
}

TEST_CASE("Impossible values are refused") {
  CHECK(ErrorOf("timeouts:\n  backoff_initial: 10s\n  backoff_max: 1s\n")
            .find("backoff_max: is shorter than backoff_initial") != std::string::npos);
  CHECK(ErrorOf("timeouts:\n  jitter: 1.5\n").find("between 0 and 1") != std::string::npos);
  CHECK(ErrorOf("timeouts:\n  deadline: 5\n").find("unit must be") != std::string::npos);
  CHECK(ErrorOf("relying_parties:\n  - url: http://kbs.example.com\n").find("https://") !=
        std::string::npos);
  CHECK(ErrorOf("relying_parties:\n  - url: https://a\n    pin_sha256: abc\n")
            .find("64 hex digits") != std::string::npos);
}

TEST_CASE("Resource errors name the resource's key path") {
  std::string e = ErrorOf(R"(relying_parties: [{url: "https://a"}]
resources:
  - name: x
    path: only/two
    sinks:
      file: {mode: "4755", owner: no-such-user-here}
)");
  CHECK(e.find("test.yaml:4:11: resources[0].path: expected repository/type/tag") !=
        std::string::npos);
  CHECK(e.find("resources[0].sinks.file.mode: setuid") != std::string::npos);
  CHECK(e.find("resources[0].sinks.file.owner: no user named 'no-such-user-here'") !=
        std::string::npos);
}

TEST_CASE("Resources without a relying party or sink, and duplicates, are refused") {
  CHECK(ErrorOf("resources:\n  - {name: a, path: r/t/a, sinks: {file: {}}}\n")
            .find("no relying_parties") != std::string::npos);
  CHECK(ErrorOf("relying_parties: [{url: \"https://a\"}]\n"
                "resources:\n  - {name: a, path: r/t/a, sinks: {}}\n")
            .find("no sink configured") != std::string::npos);
  CHECK(ErrorOf("relying_parties: [{url: \"https://a\"}]\nresources:\n"
                "  - {name: a, path: r/t/a, sinks: {file: {}}}\n"
                "  - {name: a, path: r/t/b, sinks: {file: {name: b}}}\n")
            .find("'a' is used by two resources") != std::string::npos);
  CHECK(ErrorOf("relying_parties: [{url: \"https://a\"}]\nresources:\n"
                "  - {name: a, path: r/t/a, sinks: {api: {}}}\n")
            .find("nobody could read it") != std::string::npos);
}

TEST_CASE("A simulated TEE needs its state directory and only it may have one") {
  CHECK(ErrorOf("tee: sim-snp\n").find("needs sim.state_dir") != std::string::npos);
  CHECK(ErrorOf("tee: snp\nsim: {state_dir: /tmp/x}\n").find("only allowed with tee: sim") !=
        std::string::npos);
  auto c = ParseConfig("tee: sim-tdx\nsim: {state_dir: /var/lib/sim}\n", "t");
  REQUIRE(c.ok());
  CHECK(c->tee == TeeSetting::kSimTdx);
  CHECK(c->sim_measurement.empty());
}

TEST_CASE("A simulated launch measurement is 48 bytes of hex") {
  std::string hex(96, 'a');
  auto c =
      ParseConfig("tee: sim-snp\nsim: {state_dir: /var/lib/sim, measurement: " + hex + "}\n", "t");
  REQUIRE(c.ok());
  CHECK(c->sim_measurement == Bytes(48, 0xaa));
  CHECK(ErrorOf("tee: sim-snp\nsim: {state_dir: /x, measurement: abcd}\n")
            .find("sim.measurement: expected 96 hex digits") != std::string::npos);
}

TEST_CASE("init_data is an absolute path; tpm.pcrs is refused, not ignored") {
  auto c = ParseConfig("init_data: /run/cvm-agent/init-data.toml\n", "t");
  REQUIRE(c.ok());
  CHECK(c->init_data == "/run/cvm-agent/init-data.toml");
  CHECK(ErrorOf("init_data: init-data.toml\n").find("init_data") != std::string::npos);
  CHECK(ErrorOf("tpm: {pcrs: {sha256: [0, 7]}}\n").find("tpm.pcrs: not configurable") !=
        std::string::npos);
}

TEST_CASE("YAML syntax errors name the line") {
  std::string e = ErrorOf("tee: snp\nresources: [\n");
  CHECK(e.rfind("test.yaml:", 0) == 0);
}

TEST_CASE("Durations need units and combine parts") {
  CHECK(*ParseDuration("1h30m") == std::chrono::minutes(90));
  CHECK(*ParseDuration("250ms") == std::chrono::milliseconds(250));
  CHECK_FALSE(ParseDuration("10").ok());
  CHECK_FALSE(ParseDuration("10d").ok());
  CHECK_FALSE(ParseDuration("").ok());
  CHECK_FALSE(ParseDuration("99999999h").ok());
}

TEST_CASE("A cryptsetup sink's volume UUID is kept in lower case; a malformed one is refused") {
  const std::string head =
      "relying_parties: [{url: https://kbs}]\nresources:\n  - name: d\n    path: a/b/c\n"
      "    sinks:\n      cryptsetup: {volume: data, uuid: ";
  auto c = ParseConfig(head + "0B8E4A1C-1D2E-4F60-8A9B-0C1D2E3F4A5B}\n", "t.yaml");
  REQUIRE(c.ok());
  CHECK(c->resources[0].cryptsetup->uuid == "0b8e4a1c-1d2e-4f60-8a9b-0c1d2e3f4a5b");
  CHECK(ErrorOf(head + "not-a-uuid}\n").find("'not-a-uuid' is not a UUID") != std::string::npos);
  CHECK(ErrorOf(head + "0b8e4a1c-1d2e-4f60-8a9b-0c1d2e3f4a5b}\n  - name: e\n    path: a/b/d\n"
                       "    sinks:\n      cryptsetup: {volume: other, uuid: "
                       "0b8e4a1c-1d2e-4f60-8a9b-0c1d2e3f4a5b}\n")
            .find("is served by two resources") != std::string::npos);
}

TEST_CASE("luks.allowed_ciphers defaults to aes-xts-plain64 and refuses null ciphers") {
  auto c = ParseConfig("", "t.yaml");
  REQUIRE(c.ok());
  CHECK(c->luks.allowed_ciphers == std::vector<std::string>{"aes-xts-plain64"});
  auto d = ParseConfig("luks: {allowed_ciphers: [aes-xts-plain64, serpent-xts-plain64]}\n", "t");
  REQUIRE(d.ok());
  CHECK(d->luks.allowed_ciphers.size() == 2);
  CHECK(ErrorOf("luks: {allowed_ciphers: [cipher_null-ecb]}\n").find("not an encrypting cipher") !=
        std::string::npos);
  CHECK(ErrorOf("luks: {allowed_ciphers: []}\n").find("no cipher allowed") != std::string::npos);
  CHECK(ErrorOf("luks: {ciphers: [a]}\n").find("ciphers") != std::string::npos);
}

TEST_CASE("Every shipped example configuration is valid") {
  for (const char* name :
       {"config.yaml", "examples/snp-bare-metal.yaml", "examples/aws-snp-vlek.yaml",
        "examples/azure-snp-vtpm.yaml", "examples/azure-tdx-vtpm.yaml",
        "examples/gcp-tdx-ccel.yaml", "examples/sim-snp.yaml", "examples/sim-tdx.yaml",
        "examples/luks-data-disk.yaml"}) {
    INFO(name);
    auto c = LoadConfig(cvm::testing::SourceDir() + "/config/" + name);
    CHECK(c.status().ToString() == "ok");
  }
}

}  // namespace
}  // namespace cvm::agent
