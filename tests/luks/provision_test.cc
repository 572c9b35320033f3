// First boot of a blank data disk: `cvmctl luks provision` formats a LUKS2 image file with a
// per-VM key that the real cvm-rp generated and keeps for this VM ({vm_id}/luks/data), through
// the real cvm-agentd (simulated SEV-SNP); at the next boot the token plugin opens it with the
// key fetched the normal way. Another VM (another launch measurement) neither reads nor
// overwrites it, and a VM the relying party denies gets nothing.
#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "common/file_util.h"
#include "tests/luks/luks_fixture.h"
#include "tests/luks/rp_process.h"

namespace cvm::luks::testing {
namespace {

using ::cvm::luks::testing::CreateSimSnp;
using ::cvm::luks::testing::kOtherMeasurement;
using ::cvm::luks::testing::kZeroMeasurement;
using ::cvm::luks::testing::RelyingParty;

constexpr char kVolumeUuid[] = "5f0c2b7e-3a41-4d8e-9b6a-0e1f2a3b4c5d";
constexpr char kPerVmPath[] = "{vm_id}/luks/data";

ProcessResult RunCvmctl(std::vector<std::string> args) {
  args.insert(args.begin(), ::cvm::testing::BinaryDir() + "/cli/cvmctl");
  return ::cvm::testing::Run(args);
}

// A 20 MiB sparse file: what a new cloud data disk reads like.
std::string BlankImage(const TempDir& dir, const std::string& name) {
  std::string image = dir.File(name);
  REQUIRE(::cvm::testing::Run({"/usr/bin/truncate", "-s", "20M", image}).exit_code == 0);
  return image;
}

bool AllZero(const std::string& image) {
  auto bytes = ReadFile(image, 32 << 20);
  REQUIRE(bytes.ok());
  for (uint8_t b : *bytes) {
    if (b != 0) return false;
  }
  return true;
}

AgentOptions PerVm(const RelyingParty& rp, const std::string& name,
                   const std::string& measurement = "", const std::string& deadline = "30s") {
  AgentOptions o;
  o.rp_url = rp.url();
  o.uuid = kVolumeUuid;
  o.deadline = deadline;
  o.name = name;
  o.resource = "data-disk";
  o.path = kPerVmPath;
  o.measurement = measurement;
  return o;
}

ProcessResult Provision(const std::string& image, const Agent& agent,
                        std::vector<std::string> extra = {}) {
  std::vector<std::string> args{
      "luks",         "provision", image,          "--resource",
      "data-disk",    "--socket",  agent.socket(), "--pbkdf-force-iterations",
      kTestIterations};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunCvmctl(args);
}

size_t VmIds(const TempDir& dir) {
  std::string vm = dir.File("vm-resources");
  if (!std::filesystem::is_directory(vm)) return 0;
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(vm)) {
    (void)e;
    ++n;
  }
  return n;
}

TEST_CASE("cvmctl luks provision formats a blank disk that opens through the token at next boot") {
  TempDir dir;
  CreateSimSnp(dir);
  RelyingParty rp(dir, RelyingPartyOptions{{kZeroMeasurement}, true});
  std::string img = BlankImage(dir, "data.img");
  auto agent = std::make_unique<Agent>(dir, PerVm(rp, "vm1"));
  // The agent is ready although the relying party holds no key for this VM yet.
  std::string status;
  bool ready = agent->WaitReady(&status);
  INFO("status: " << status << "\nagent log:\n" << agent->Log() << "\nrp log:\n" << rp.Log());
  REQUIRE(ready);
  CHECK(status.find("not_provisioned") != std::string::npos);

  auto first = Provision(img, *agent, {"--token-timeout", "20"});
  INFO("provision: " << first.out << first.err << "\nagent log:\n" << agent->Log());
  REQUIRE(first.exit_code == 0);
  CHECK(first.out.find("LUKS2 UUID " + std::string(kVolumeUuid) + ", keyslot 0, token 0") !=
        std::string::npos);
  CHECK(first.out.find("a new key from the relying party") != std::string::npos);
  CHECK(ImageUuid(img) == kVolumeUuid);
  CHECK(VmIds(dir) == 1);
  auto opened = OpenWithToken(img, agent->socket());
  INFO("open: " << opened.err);
  CHECK(opened.exit_code == 0);

  // Provisioning again is a no-op: the disk is left as it is (a boot unit may run it always).
  auto again = Provision(img, *agent);
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("already provisioned") != std::string::npos);

  // Next boot: a new agent process fetches the key through GET vm-resource; the plugin opens.
  agent.reset();
  agent = std::make_unique<Agent>(dir, PerVm(rp, "vm1"));
  auto reopened = OpenWithToken(img, agent->socket());
  INFO("open after reboot: " << reopened.err << "\nagent log:\n" << agent->Log());
  CHECK(reopened.exit_code == 0);
  CHECK(agent->Log().find("handed the key of resource 'data-disk' to LUKS volume " +
                          std::string(kVolumeUuid)) != std::string::npos);
}

TEST_CASE("A second VM can neither fetch nor overwrite the first VM's provisioned key") {
  TempDir dir;
  CreateSimSnp(dir);
  RelyingParty rp(dir, RelyingPartyOptions{{kZeroMeasurement, kOtherMeasurement}, true});
  std::string img_a = BlankImage(dir, "a.img");
  std::string img_b = BlankImage(dir, "b.img");
  auto vm_a = std::make_unique<Agent>(dir, PerVm(rp, "vm-a"));
  auto provision_a = Provision(img_a, *vm_a);
  INFO("provision a: " << provision_a.out << provision_a.err << "\nlog:\n" << vm_a->Log());
  REQUIRE(provision_a.exit_code == 0);

  // VM B: same image configuration (same path, same volume UUID), other launch measurement.
  Agent vm_b(dir, PerVm(rp, "vm-b", kOtherMeasurement, "30s"));
  std::string status;
  REQUIRE(vm_b.WaitReady(&status));
  auto stolen = OpenWithToken(img_a, vm_b.socket());
  INFO("B opening A's disk: " << stolen.err << "\nlog:\n" << vm_b.Log());
  CHECK(stolen.exit_code != 0);
  CHECK(stolen.err.find("has not been provisioned for this VM") != std::string::npos);

  // B provisions its own disk: a new key of its own, A's stays as it was.
  auto provision_b = Provision(img_b, vm_b);
  INFO("provision b: " << provision_b.out << provision_b.err);
  REQUIRE(provision_b.exit_code == 0);
  CHECK(provision_b.out.find("a new key from the relying party") != std::string::npos);
  CHECK(VmIds(dir) == 2);
  CHECK(OpenWithToken(img_b, vm_b.socket()).exit_code == 0);
  auto still_stolen = OpenWithToken(img_a, vm_b.socket());
  CHECK(still_stolen.exit_code != 0);
  vm_a.reset();
  Agent vm_a_rebooted(dir, PerVm(rp, "vm-a"));
  auto a_opens = OpenWithToken(img_a, vm_a_rebooted.socket());
  INFO("A after reboot: " << a_opens.err);
  CHECK(a_opens.exit_code == 0);
}

TEST_CASE("A VM the relying party denies gets no key and its disk stays blank") {
  TempDir dir;
  CreateSimSnp(dir);
  RelyingParty rp(dir, RelyingPartyOptions{{kOtherMeasurement}, true});
  std::string img = BlankImage(dir, "data.img");
  Agent agent(dir, PerVm(rp, "vm1", "", "3s"));
  auto r = Provision(img, agent, {"--wait", "10"});
  INFO("provision: " << r.out << r.err << "\nagent log:\n" << agent.Log());
  CHECK(r.exit_code != 0);
  CHECK(AllZero(img));
  CHECK(VmIds(dir) == 0);
}

TEST_CASE("cvmctl luks provision refuses a disk that is not blank unless --force") {
  TempDir dir;
  CreateSimSnp(dir);
  RelyingParty rp(dir, RelyingPartyOptions{{kZeroMeasurement}, true});
  WriteText(dir.File("initial.pw"), "initial passphrase");
  std::string luks = FormatImage(dir, "luks.img", dir.File("initial.pw"));
  std::string data = BlankImage(dir, "data.img");
  WriteText(dir.File("junk"), "an ext4 superblock, say");
  REQUIRE(::cvm::testing::Run({"/usr/bin/dd", "if=" + dir.File("junk"), "of=" + data, "bs=1",
                               "seek=1024", "conv=notrunc", "status=none"})
              .exit_code == 0);
  Agent agent(dir, PerVm(rp, "vm1"));

  auto on_luks = Provision(luks, agent);
  CHECK(on_luks.exit_code == 2);
  CHECK(on_luks.err.find("is not blank: it holds a LUKS2 header") != std::string::npos);
  auto on_data = Provision(data, agent);
  CHECK(on_data.exit_code == 2);
  CHECK(on_data.err.find("its first MiB is not all zeros") != std::string::npos);
  CHECK(VmIds(dir) == 0);  // refused before the relying party was asked
  Cryptsetup({"open", "--test-passphrase", "--key-file", dir.File("initial.pw"), luks});

  auto forced = Provision(data, agent, {"--force"});
  INFO("forced: " << forced.out << forced.err << "\nagent log:\n" << agent.Log());
  CHECK(forced.exit_code == 0);
  CHECK(OpenWithToken(data, agent.socket()).exit_code == 0);
  CHECK(RunCvmctl({"luks", "provision", data}).exit_code == 2);  // --resource missing
}

TEST_CASE("cvmctl luks bind --generate binds an existing volume to a new per-VM key") {
  TempDir dir;
  CreateSimSnp(dir);
  RelyingParty rp(dir, RelyingPartyOptions{{kZeroMeasurement}, true});
  WriteText(dir.File("initial.pw"), "initial passphrase");
  std::string img = FormatImage(dir, "disk.img", dir.File("initial.pw"));
  AgentOptions o = PerVm(rp, "vm1");
  o.uuid = ImageUuid(img);
  Agent agent(dir, o);
  auto without = RunCvmctl({"luks", "bind", img, "--resource", "data-disk", "--key-file",
                            dir.File("initial.pw"), "--socket", agent.socket(), "--wait", "5"});
  CHECK(without.exit_code == 2);
  CHECK(without.err.find("has not been provisioned for this VM") != std::string::npos);

  auto bind = RunCvmctl({"luks", "bind", img, "--resource", "data-disk", "--key-file",
                         dir.File("initial.pw"), "--socket", agent.socket(), "--generate",
                         "--pbkdf-force-iterations", kTestIterations});
  INFO("bind: " << bind.out << bind.err << "\nagent log:\n" << agent.Log());
  REQUIRE(bind.exit_code == 0);
  CHECK(bind.out.find("the relying party generated this VM's key") != std::string::npos);
  CHECK(bind.out.find("keyslot 1, token 0") != std::string::npos);
  CHECK(OpenWithToken(img, agent.socket()).exit_code == 0);
  CHECK(VmIds(dir) == 1);
}

}  // namespace
}  // namespace cvm::luks::testing
