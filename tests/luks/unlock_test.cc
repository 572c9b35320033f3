// End to end: `cryptsetup open --token-only` on a LUKS2 image file unlocks through the cvm token
// plugin with the key the real cvm-agentd (simulated SEV-SNP) got from the real cvm-rp, and fails
// with a message naming the problem when it must not unlock.
#include <catch2/catch.hpp>
#include <string>

#include "luks/token.h"
#include "tests/luks/luks_fixture.h"
#include "tests/luks/rp_process.h"

namespace cvm::luks::testing {
namespace {

using ::cvm::luks::testing::CreateSimSnp;
using ::cvm::luks::testing::kOtherMeasurement;
using ::cvm::luks::testing::kRpSecret;
using ::cvm::luks::testing::kZeroMeasurement;
using ::cvm::luks::testing::RelyingParty;

// An image whose keyslot 1 opens with cvm-rp's secret and whose token 0 is a cvm token for
// keyslot 1 recording `token_uuid` (the image's own UUID when empty).
struct BoundImage {
  std::string path, uuid;
};
BoundImage MakeBoundImage(const TempDir& dir, int timeout_seconds,
                          const std::string& token_uuid = "") {
  WriteText(dir.File("initial.pw"), "initial passphrase");
  WriteText(dir.File("disk.key"), kRpSecret);
  BoundImage img;
  img.path = FormatImage(dir, "disk.img", dir.File("initial.pw"));
  img.uuid = ImageUuid(img.path);
  Cryptsetup({"luksAddKey", "--batch-mode", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations",
              kTestIterations, "--key-file", dir.File("initial.pw"), img.path,
              dir.File("disk.key")});
  Token t;
  t.keyslots = {1};
  t.resource = "disk-key";
  t.uuid = token_uuid.empty() ? img.uuid : token_uuid;
  t.timeout_seconds = timeout_seconds;
  t.timeout_set = true;
  WriteText(dir.File("token.json"), TokenJson(t));
  Cryptsetup({"token", "import", "--json-file", dir.File("token.json"), img.path});
  return img;
}

TEST_CASE("cryptsetup opens a LUKS2 image through the cvm token with the key cvm-rp released") {
  TempDir dir;
  CreateSimSnp(dir);
  RelyingParty rp(dir, kZeroMeasurement);
  BoundImage img = MakeBoundImage(dir, 30);
  // Started right before cryptsetup: the plugin waits for the agent's socket and attestation.
  Agent agent(dir, rp.url(), img.uuid);
  auto r = OpenWithToken(img.path, agent.socket());
  INFO("cryptsetup: " << r.err << "\nagent log:\n" << agent.Log() << "\nrp log:\n" << rp.Log());
  CHECK(r.exit_code == 0);
  CHECK(agent.Log().find("handed the key of resource 'disk-key' to LUKS volume " + img.uuid) !=
        std::string::npos);
  CHECK(agent.Log().find(kRpSecret) == std::string::npos);
}

TEST_CASE("The cvm token fails with a clear message when cvm-agentd is not running") {
  TempDir dir;
  BoundImage img = MakeBoundImage(dir, 2);
  auto r = OpenWithToken(img.path, dir.File("run/api.sock"));
  INFO("cryptsetup: " << r.err);
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("cvm token: ") != std::string::npos);
  CHECK(r.err.find("cannot reach cvm-agentd at " + dir.File("run/api.sock")) != std::string::npos);
}

TEST_CASE("The cvm token gets no key when the relying party denies the VM") {
  TempDir dir;
  CreateSimSnp(dir);
  RelyingParty rp(dir, kOtherMeasurement);
  BoundImage img = MakeBoundImage(dir, 8);
  Agent agent(dir, rp.url(), img.uuid, "3s");
  auto r = OpenWithToken(img.path, agent.socket());
  INFO("cryptsetup: " << r.err << "\nagent log:\n" << agent.Log());
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("has not been delivered yet") != std::string::npos);
  CHECK(r.err.find("last attestation: " + rp.url() + ": rejected") != std::string::npos);
  CHECK(agent.Log().find("handed the key") == std::string::npos);
}

TEST_CASE("The cvm token refuses a header whose segment was switched to cipher_null") {
  TempDir dir;
  CreateSimSnp(dir);
  RelyingParty rp(dir, kZeroMeasurement);
  BoundImage img = MakeBoundImage(dir, 10);
  SwitchSegmentToCipherNull(img.path);
  Agent agent(dir, rp.url(), img.uuid);
  std::string status;
  bool ready = agent.WaitReady(&status);
  INFO("status: " << status << "\nagent log:\n" << agent.Log() << "\nrp log:\n" << rp.Log());
  REQUIRE(ready);
  auto r = OpenWithToken(img.path, agent.socket());
  INFO("cryptsetup: " << r.err << "\nagent log:\n" << agent.Log());
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("segment 0 uses cipher_null-ecb: it does not encrypt") != std::string::npos);
  // Refused before the agent was asked.
  CHECK(agent.Log().find("LUKS") == std::string::npos);
}

TEST_CASE("The cvm token refuses a token recorded for another volume's UUID") {
  TempDir dir;
  BoundImage img = MakeBoundImage(dir, 2, "0b8e4a1c-1d2e-4f60-8a9b-0c1d2e3f4a5b");
  auto r = OpenWithToken(img.path, dir.File("run/api.sock"));
  INFO("cryptsetup: " << r.err);
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("differs from the UUID 0b8e4a1c-1d2e-4f60-8a9b-0c1d2e3f4a5b recorded in the "
                   "cvm token") != std::string::npos);
  CHECK(r.err.find("cannot reach") == std::string::npos);
}

TEST_CASE("cvm-agentd refuses the key to a volume its configuration does not list") {
  TempDir dir;
  CreateSimSnp(dir);
  RelyingParty rp(dir, kZeroMeasurement);
  BoundImage img = MakeBoundImage(dir, 10);
  Agent agent(dir, rp.url(), "0b8e4a1c-1d2e-4f60-8a9b-0c1d2e3f4a5b");
  auto r = OpenWithToken(img.path, agent.socket());
  INFO("cryptsetup: " << r.err << "\nagent log:\n" << agent.Log());
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("is configured for volume 0b8e4a1c-1d2e-4f60-8a9b-0c1d2e3f4a5b, not for "
                   "volume " +
                   img.uuid) != std::string::npos);
  CHECK(agent.Log().find("handed the key") == std::string::npos);
}

}  // namespace
}  // namespace cvm::luks::testing
