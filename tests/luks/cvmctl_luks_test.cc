// cvmctl luks bind/show/unbind on LUKS2 image files, with the key from the real cvm-agentd
// (simulated SEV-SNP) and cvm-rp; the bound image then opens through the token plugin.
#include <catch2/catch.hpp>
#include <string>

#include "tests/luks/luks_fixture.h"
#include "tests/luks/rp_process.h"

namespace cvm::luks::testing {
namespace {

using ::cvm::luks::testing::CreateSimSnp;
using ::cvm::luks::testing::kOtherMeasurement;
using ::cvm::luks::testing::kZeroMeasurement;
using ::cvm::luks::testing::RelyingParty;

std::string Cvmctl() { return ::cvm::testing::BinaryDir() + "/cli/cvmctl"; }

ProcessResult RunCvmctl(std::vector<std::string> args) {
  args.insert(args.begin(), Cvmctl());
  return ::cvm::testing::Run(args);
}

TEST_CASE("cvmctl luks bind, show and unbind a volume; the bound volume opens through the token") {
  TempDir dir;
  CreateSimSnp(dir);
  RelyingParty rp(dir, kZeroMeasurement);
  WriteText(dir.File("initial.pw"), "initial passphrase");
  std::string img = FormatImage(dir, "disk.img", dir.File("initial.pw"));
  std::string uuid = ImageUuid(img);
  Agent agent(dir, rp.url(), uuid);

  auto bind = RunCvmctl({"luks", "bind", img, "--resource", "disk-key", "--key-file",
                         dir.File("initial.pw"), "--socket", agent.socket(), "--token-timeout",
                         "20", "--pbkdf-force-iterations", kTestIterations});
  INFO("bind: " << bind.out << bind.err << "\nagent log:\n" << agent.Log());
  REQUIRE(bind.exit_code == 0);
  CHECK(bind.out.find("to resource 'disk-key': keyslot 1, token 0") != std::string::npos);

  auto show = RunCvmctl({"luks", "show", img});
  INFO("show: " << show.out << show.err);
  CHECK(show.exit_code == 0);
  CHECK(show.out.find("token 0: resource 'disk-key', keyslots 1, timeout 20 s: ok") !=
        std::string::npos);

  auto open = OpenWithToken(img, agent.socket());
  INFO("open: " << open.err);
  CHECK(open.exit_code == 0);

  auto again = RunCvmctl({"luks", "bind", img, "--resource", "disk-key", "--key-file",
                          dir.File("initial.pw"), "--socket", agent.socket()});
  CHECK(again.exit_code == 2);
  CHECK(again.err.find("already bound to resource 'disk-key'") != std::string::npos);

  auto unbind = RunCvmctl({"luks", "unbind", img, "--resource", "disk-key"});
  INFO("unbind: " << unbind.out << unbind.err);
  CHECK(unbind.exit_code == 0);
  CHECK(RunCvmctl({"luks", "show", img}).out.find("no cvm token") != std::string::npos);
  CHECK(OpenWithToken(img, agent.socket()).exit_code != 0);
  // The initial passphrase still opens it; the agent's key no longer does.
  Cryptsetup({"open", "--test-passphrase", "--key-file", dir.File("initial.pw"), img});
}

TEST_CASE("cvmctl luks bind gets no key for a volume the agent's configuration does not list") {
  TempDir dir;
  CreateSimSnp(dir);
  RelyingParty rp(dir, kZeroMeasurement);
  WriteText(dir.File("initial.pw"), "initial passphrase");
  std::string img = FormatImage(dir, "disk.img", dir.File("initial.pw"));
  Agent agent(dir, rp.url(), "0b8e4a1c-1d2e-4f60-8a9b-0c1d2e3f4a5b");
  auto bind = RunCvmctl({"luks", "bind", img, "--resource", "disk-key", "--key-file",
                         dir.File("initial.pw"), "--socket", agent.socket()});
  INFO("bind: " << bind.err);
  CHECK(bind.exit_code == 3);
  CHECK(bind.err.find("is configured for volume 0b8e4a1c") != std::string::npos);
  CHECK(RunCvmctl({"luks", "show", img}).out.find("no cvm token") != std::string::npos);
}

TEST_CASE("cvmctl luks bind on a VM the relying party denies adds no keyslot") {
  TempDir dir;
  CreateSimSnp(dir);
  RelyingParty rp(dir, kOtherMeasurement);
  WriteText(dir.File("initial.pw"), "initial passphrase");
  std::string img = FormatImage(dir, "disk.img", dir.File("initial.pw"));
  Agent agent(dir, rp.url(), ImageUuid(img), "2s");
  auto bind = RunCvmctl({"luks", "bind", img, "--resource", "disk-key", "--key-file",
                         dir.File("initial.pw"), "--socket", agent.socket(), "--wait", "5"});
  INFO("bind: " << bind.err);
  CHECK(bind.exit_code == 3);
  CHECK(bind.err.find("no key for resource 'disk-key'") != std::string::npos);
  auto dump = Cryptsetup({"luksDump", img});
  CHECK(dump.out.find("  1: luks2") == std::string::npos);
}

TEST_CASE("cvmctl luks show exits 1 naming the problem of a token copied from another volume") {
  TempDir dir;
  WriteText(dir.File("initial.pw"), "initial passphrase");
  std::string img = FormatImage(dir, "disk.img", dir.File("initial.pw"));
  WriteText(
      dir.File("t.json"),
      R"({"type":"cvm","keyslots":["0"],"resource":"disk-key","uuid":"0b8e4a1c-1d2e-4f60-8a9b-0c1d2e3f4a5b"})");
  Cryptsetup({"token", "import", "--json-file", dir.File("t.json"), img});
  auto show = RunCvmctl({"luks", "show", img});
  CHECK(show.exit_code == 1);
  CHECK(show.out.find("differs from the UUID 0b8e4a1c-1d2e-4f60-8a9b-0c1d2e3f4a5b") !=
        std::string::npos);
  auto unbind = RunCvmctl({"luks", "unbind", img, "--resource", "disk-key"});
  CHECK(unbind.exit_code == 2);
  CHECK(unbind.err.find("the volume's last") != std::string::npos);
}

TEST_CASE("cvmctl luks refuses a missing option and an unknown verb with exit 2") {
  CHECK(RunCvmctl({"luks", "bind", "/nonexistent", "--key-file", "x"}).exit_code == 2);
  CHECK(RunCvmctl({"luks", "frobnicate"}).exit_code == 2);
  CHECK(RunCvmctl({"luks", "unbind", "/nonexistent"}).exit_code == 2);
}

}  // namespace
}  // namespace cvm::luks::testing
