// The configuration file, the token key, and `cvm-rp --check-config`.
#include "rp/config.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "common/file_util.h"
#include "common/keys.h"
#include "tests/testing/testing.h"

namespace cvm::rp {
namespace {

using cvm::testing::TempDir;

std::string ErrorOf(const std::string& yaml) {
  auto c = ParseConfig(yaml, "/etc/cvm-rp/rp.yaml");
  REQUIRE_FALSE(c.ok());
  return c.status().message();
}

TEST_CASE("A full configuration parses with paths relative to its directory", "[rp][config]") {
  auto c = ParseConfig(R"(listen:
  - {address: 127.0.0.1, port: 8080}
  - {address: "::1", port: 8443, tls: true}
tls: {cert: tls.crt, key: /keys/tls.key}
token_key: token.key
policy: policy.yaml
resources:
  dir: resources
  inline:
    default/key/demo: {value: "demo secret"}
    default/key/b64: {base64: "AAEC"}
session_timeout: 2m
threads: 4
audit_log: /var/log/cvm-rp-audit.log
diagnostic_header: true
trust_anchors: {snp_roots: [sim/ark.pem], tdx_roots: [], fetch_collateral: false}
limits: {max_body: 1M, max_header: 8K, read_timeout: 10s, max_sessions: 50}
)",
                       "/etc/cvm-rp/rp.yaml");
  REQUIRE(c.ok());
  REQUIRE(c->listen.size() == 2);
  CHECK(c->listen[1].address == "::1");
  CHECK(c->listen[1].tls);
  CHECK(c->tls_cert == "/etc/cvm-rp/tls.crt");
  CHECK(c->tls_key == "/keys/tls.key");
  CHECK(c->policy == "/etc/cvm-rp/policy.yaml");
  CHECK(c->resource_dir == "/etc/cvm-rp/resources");
  REQUIRE(c->inline_resources.size() == 2);
  CHECK(c->inline_resources[1].second->size() == 3);
  CHECK(c->session_timeout == std::chrono::seconds(120));
  CHECK(c->threads == 4);
  CHECK(c->diagnostic_header);
  CHECK(c->snp_roots == std::vector<std::string>{"/etc/cvm-rp/sim/ark.pem"});
  CHECK(c->max_body == (1u << 20));
  CHECK(c->max_header == 8192);
  CHECK(c->max_sessions == 50);
}

TEST_CASE("The defaults listen on loopback over HTTP", "[rp][config]") {
  auto c = ParseConfig("policy: p.yaml\ntoken_key: k.pem\n", "rp.yaml");
  REQUIRE(c.ok());
  REQUIRE(c->listen.size() == 1);
  CHECK(c->listen[0].address == "127.0.0.1");
  CHECK(c->listen[0].port == 8080);
  CHECK_FALSE(c->listen[0].tls);
  CHECK(c->session_timeout == std::chrono::seconds(300));
  CHECK(c->policy == "./p.yaml");
}

TEST_CASE("Configuration errors name the file, line and column", "[rp][config]") {
  CHECK(ErrorOf("policy: p.yaml\ntoken_key: k\nthreds: 2\n") ==
        "/etc/cvm-rp/rp.yaml:3:1: threds: unknown key");
  CHECK(ErrorOf("token_key: k\n") == "/etc/cvm-rp/rp.yaml:1:1: missing required key 'policy'");
  CHECK(ErrorOf("policy: p\ntoken_key: k\nlisten:\n  - {port: 99999}\n") ==
        "/etc/cvm-rp/rp.yaml:4:12: listen.port: 99999 is larger than 65535");
  CHECK(ErrorOf("policy: p\ntoken_key: k\nlisten:\n  - {tls: true}\n")
            .find("a tls listener needs tls.cert and tls.key") != std::string::npos);
  CHECK(ErrorOf("policy: p\ntoken_key: k\nresources:\n  inline:\n    a/b: {value: x}\n")
            .rfind("/etc/cvm-rp/rp.yaml:5:5: resources.inline:", 0) == 0);
  CHECK(ErrorOf("policy: p\ntoken_key: k\nresources:\n  inline:\n    a/b/c: {value: x, base64: "
                "AA==}\n")
            .find("exactly one of value, base64, file") != std::string::npos);
  CHECK(ErrorOf("policy: p\ntoken_key: k\nlimits: {max_body: 3G}\n").find("unknown size unit") !=
        std::string::npos);
}

TEST_CASE("The token key is generated with mode 0600 once, then reused", "[rp][config]") {
  TempDir dir;
  std::string path = dir.File("token.key");
  bool created = false;
  CHECK(LoadOrCreateTokenKey(path, false, &created).status().code() == Code::kNotFound);
  auto key = LoadOrCreateTokenKey(path, true, &created);
  REQUIRE(key.ok());
  CHECK(created);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto again = LoadOrCreateTokenKey(path, true, &created);
  REQUIRE(again.ok());
  CHECK_FALSE(created);
  CHECK(*PublicKeyToPem(again->get()) == *PublicKeyToPem(key->get()));
  auto rsa = GenerateRsaKey(2048);
  REQUIRE(rsa.ok());
  REQUIRE(WriteFileAtomic(dir.File("rsa.key"), PrivateKeyToPem(rsa->get())->view()).ok());
  CHECK(LoadOrCreateTokenKey(dir.File("rsa.key"), true, &created)
            .status()
            .message()
            .find("not an EC P-256 key") != std::string::npos);
}

TEST_CASE("Resources load from the directory tree and inline values", "[rp][config]") {
  TempDir dir;
  REQUIRE(MakeDirs(dir.File("res/default/key")).ok());
  REQUIRE(MakeDirs(dir.File("res/bad..repo/x")).ok());
  REQUIRE(WriteFileAtomic(dir.File("res/default/key/disk"), std::string_view("file secret")).ok());
  REQUIRE(WriteFileAtomic(dir.File("res/default/key/.hidden"), std::string_view("no")).ok());
  REQUIRE(::symlink("/etc/passwd", dir.File("res/default/key/link").c_str()) == 0);
  auto c = ParseConfig(
      "policy: p\ntoken_key: k\nresources:\n  dir: res\n  inline:\n"
      "    default/key/inline: {value: inline secret}\n",
      dir.File("rp.yaml"));
  REQUIRE(c.ok());
  auto store = LoadResources(*c);
  REQUIRE(store.ok());
  CHECK((*store)->size() == 2);
  REQUIRE((*store)->Find("default/key/disk"));
  CHECK((*store)->Find("default/key/disk")->size() == 11);
  CHECK((*store)->Find("default/key/inline"));
  CHECK_FALSE((*store)->Find("default/key/link"));
  CHECK_FALSE((*store)->Find("default/key/.hidden"));
}

TEST_CASE("cvm-rp --check-config accepts a valid setup and names the line of an error",
          "[rp][config]") {
  TempDir dir;
  REQUIRE(WriteFileAtomic(dir.File("policy.yaml"), std::string_view("default: {tee: snp}\n")).ok());
  REQUIRE(WriteFileAtomic(dir.File("rp.yaml"),
                          std::string_view("policy: policy.yaml\ntoken_key: token.key\n"))
              .ok());
  std::string rp = cvm::testing::BinaryDir() + "/rp/cvm-rp";
  auto ok = cvm::testing::Run({rp, "--check-config", dir.File("rp.yaml")});
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find("it will be generated") != std::string::npos);
  struct stat st {};
  CHECK(::stat(dir.File("token.key").c_str(), &st) != 0);  // --check-config writes nothing

  REQUIRE(WriteFileAtomic(dir.File("policy.yaml"),
                          std::string_view("default:\n  tee: [snp]\n  debug: true\n"))
              .ok());
  auto bad = cvm::testing::Run({rp, "--check-config", dir.File("rp.yaml")});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find(dir.File("policy.yaml") + ":3:3: default.debug: unknown key") !=
        std::string::npos);

  auto neither = cvm::testing::Run({rp});
  CHECK(neither.exit_code == 2);
}

}  // namespace
}  // namespace cvm::rp
