// Per-VM resources: the VM id derivation, the write-once store, and the vm-resource plugin over
// loopback HTTP with fake evidence (rp/vm_resources.h, rp/kbs_service.h).
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "common/encoding.h"
#include "rp/vm_resources.h"
#include "tests/rp/http_client.h"
#include "tests/rp/rp_fixture.h"

namespace cvm::rp::testing {
namespace {

using nlohmann::json;

constexpr char kErr[] = "https://github.com/confidential-containers/kbs/errors/";
const std::string kOtherMeasurement(96, 'b');

evidence::Claims SnpClaims(std::string measurement_hex, std::string host_data_hex = "") {
  evidence::Claims c;
  c.tee = evidence::TeeKind::kSnp;
  c.measurement = *HexDecode(measurement_hex);
  c.host_data = host_data_hex.empty() ? Bytes(32, 0) : *HexDecode(host_data_hex);
  c.chip_id = Bytes(64, 0x11);
  return c;
}

std::string Plain(const Reply& r) {
  json jwe = r.Json();
  REQUIRE(jwe.is_object());
  auto plain = Base64Decode(jwe.value("fake-jwe", ""));
  REQUIRE(plain.ok());
  return std::string(plain->begin(), plain->end());
}

TEST_CASE("The VM id changes with every identity field and never with anything else", "[rp]") {
  std::vector<VmIdentityField> all = {VmIdentityField::kMeasurement, VmIdentityField::kHostData,
                                      VmIdentityField::kChipId};
  evidence::Claims a = SnpClaims(kGoodMeasurement);
  auto id = DeriveVmId(a, all);
  REQUIRE(id.ok());
  CHECK(id->size() == 64);
  CHECK(*DeriveVmId(a, all) == *id);

  evidence::Claims other_measurement = SnpClaims(kOtherMeasurement);
  CHECK(*DeriveVmId(other_measurement, all) != *id);
  evidence::Claims other_host = SnpClaims(kGoodMeasurement, std::string(64, '2'));
  CHECK(*DeriveVmId(other_host, all) != *id);
  evidence::Claims other_chip = a;
  other_chip.chip_id = Bytes(64, 0x22);
  CHECK(*DeriveVmId(other_chip, all) != *id);
  // A field left out of the identity does not matter.
  CHECK(*DeriveVmId(other_chip, {VmIdentityField::kMeasurement, VmIdentityField::kHostData}) ==
        *DeriveVmId(a, {VmIdentityField::kMeasurement, VmIdentityField::kHostData}));
  evidence::Claims other_tcb = a;
  other_tcb.tcb["snp"] = 99;
  CHECK(*DeriveVmId(other_tcb, all) == *id);
}

TEST_CASE("A VM id needs every identity field in the evidence and refuses a masked CHIP_ID",
          "[rp]") {
  evidence::Claims tdx;
  tdx.tee = evidence::TeeKind::kTdx;
  tdx.measurement = Bytes(48, 1);
  tdx.host_data = Bytes(48, 2);
  auto no_chip = DeriveVmId(tdx, {VmIdentityField::kChipId});
  CHECK(no_chip.status().code() == Code::kRejected);
  CHECK(no_chip.status().message().find("chip_id: tdx evidence has none") != std::string::npos);
  evidence::Claims masked = SnpClaims(kGoodMeasurement);
  masked.chip_id = Bytes(64, 0);
  CHECK(DeriveVmId(masked, {VmIdentityField::kChipId}).status().message().find("masks CHIP_ID") !=
        std::string::npos);
  CHECK(ParseVmIdentityField("report_id").status().code() == Code::kInvalidInput);
}

TEST_CASE("The store creates a value once, keeps it 0600 and gives each VM id its own", "[rp]") {
  ::cvm::testing::TempDir dir;
  VmResourceConfig config;
  config.dir = dir.File("vm");
  config.max_per_vm = 2;
  auto store = VmResourceStore::Open(config);
  REQUIRE(store.ok());
  const std::string a(64, 'a'), b(64, 'b');
  CHECK_FALSE((*store)->Get(a, "luks/data")->has_value());
  auto first = (*store)->GetOrCreate(a, "luks/data");
  INFO(first.status().ToString());
  REQUIRE(first.ok());
  CHECK(first->created);
  CHECK(first->value.size() == 32);
  auto again = (*store)->GetOrCreate(a, "luks/data");
  REQUIRE(again.ok());
  CHECK_FALSE(again->created);
  CHECK(ToBytes(again->value.view()) == ToBytes(first->value.view()));
  auto read = (*store)->Get(a, "luks/data");
  REQUIRE(read.ok());
  REQUIRE(read->has_value());
  CHECK(ToBytes((*read)->view()) == ToBytes(first->value.view()));

  auto other = (*store)->GetOrCreate(b, "luks/data");
  REQUIRE(other.ok());
  CHECK(other->created);
  CHECK(ToBytes(other->value.view()) != ToBytes(first->value.view()));

  struct stat st {};
  REQUIRE(::stat((config.dir + "/" + a + "/luks/data").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((config.dir + "/" + a).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  // No temporary file is left behind.
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(config.dir + "/" + a + "/luks")) {
    (void)e;
    ++files;
  }
  CHECK(files == 1);

  // max_per_vm: the third distinct value of one VM is refused, an existing one still served.
  REQUIRE((*store)->GetOrCreate(a, "luks/swap").ok());
  CHECK((*store)->GetOrCreate(a, "luks/home").status().code() == Code::kRejected);
  CHECK((*store)->GetOrCreate(a, "luks/data").ok());
  CHECK((*store)->GetOrCreate(a, "../x").status().code() == Code::kInvalidInput);
}

struct VmRp {
  RpFixture rp;
  std::string vm_dir;
  VmRp() {
    VmResourceConfig config;
    config.dir = rp.dir.File("vm");
    vm_dir = config.dir;
    auto store = VmResourceStore::Open(config);
    REQUIRE(store.ok());
    rp.service->EnableVmResources(std::shared_ptr<VmResourceStore>(std::move(store).value()));
  }
};

// Fake SNP evidence with a HOST_DATA, as real SNP evidence always has (the default VM identity
// is the measurement and HOST_DATA).
json Evidence(const std::string& measurement) {
  return {{"measurement", measurement},
          {"host_data", std::string(64, '0')},
          {"tcb", {{"bootloader", 3}, {"snp", 8}}}};
}

TEST_CASE("vm-resource: 404 before the first POST, 201 on creation, then the same value", "[rp]") {
  VmRp vm;
  KbsClient client(vm.rp.http_base());
  REQUIRE(client.Auth().status == 200);
  REQUIRE(client.Attest(AttestBody(client.nonce, Evidence(kGoodMeasurement))).status == 200);

  Reply missing = client.Send("GET", "/kbs/v0/vm-resource/luks/data");
  CHECK(missing.status == 404);
  CHECK(missing.Json().value("type", "") == std::string(kErr) + "VmResourceNotFound");

  Reply created = client.Send("POST", "/kbs/v0/vm-resource/luks/data", "{}");
  REQUIRE(created.status == 201);
  std::string key = Plain(created);
  CHECK(key.size() == 32);
  Reply again = client.Send("POST", "/kbs/v0/vm-resource/luks/data", "{}");
  REQUIRE(again.status == 200);
  CHECK(Plain(again) == key);
  Reply got = client.Send("GET", "/kbs/v0/vm-resource/luks/data");
  REQUIRE(got.status == 200);
  CHECK(Plain(got) == key);

  json record = vm.rp.LastAudit("vm-resource");
  CHECK(record["verdict"] == "allow");
  CHECK(record["resource"].get<std::string>().find("/luks/data") == 64);
  CHECK(vm.rp.AuditText().find(Base64Encode(AsBytes(key))) == std::string::npos);
}

TEST_CASE("vm-resource: another VM neither reads nor overwrites the first VM's value", "[rp]") {
  // vm/*/* accepts both VMs (the default rule only aa..).
  RpOptions options;
  options.policy = std::string(kTestPolicy) + R"(  "vm/*/*":
    tee: [snp]
    snp_measurements:
      - aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
      - bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
)";
  RpFixture rp(options);
  VmResourceConfig config;
  config.dir = rp.dir.File("vm");
  auto store = VmResourceStore::Open(config);
  REQUIRE(store.ok());
  rp.service->EnableVmResources(std::shared_ptr<VmResourceStore>(std::move(store).value()));

  KbsClient a(rp.http_base());
  REQUIRE(a.Auth().status == 200);
  REQUIRE(a.Attest(AttestBody(a.nonce, Evidence(kGoodMeasurement))).status == 200);
  Reply created = a.Send("POST", "/kbs/v0/vm-resource/luks/data", "{}");
  REQUIRE(created.status == 201);
  std::string key_a = Plain(created);

  KbsClient b(rp.http_base());
  REQUIRE(b.Auth().status == 200);
  REQUIRE(b.Attest(AttestBody(b.nonce, Evidence(kOtherMeasurement))).status == 200);
  CHECK(b.Send("GET", "/kbs/v0/vm-resource/luks/data").status == 404);
  Reply b_created = b.Send("POST", "/kbs/v0/vm-resource/luks/data", "{}");
  REQUIRE(b_created.status == 201);
  CHECK(Plain(b_created) != key_a);
  // A's value is untouched.
  Reply a_again = a.Send("GET", "/kbs/v0/vm-resource/luks/data");
  REQUIRE(a_again.status == 200);
  CHECK(Plain(a_again) == key_a);
  // No path names another VM: the id is never taken from the request.
  CHECK(b.Send("GET", "/kbs/v0/vm-resource/" + std::string(64, 'a') + "/luks/data").status == 401);
}

TEST_CASE("vm-resource: no value without an attested session, a governing rule or the plugin",
          "[rp]") {
  VmRp vm;
  KbsClient anonymous(vm.rp.http_base());
  Reply r = anonymous.Send("POST", "/kbs/v0/vm-resource/luks/data", "{}");
  CHECK(r.status == 401);
  CHECK(r.Json().value("type", "") == std::string(kErr) + "TokenNotFound");
  CHECK(std::filesystem::is_empty(vm.vm_dir));

  // bb.. gets a token (the test policy's default/strict/* rule accepts it), but vm/luks/data is
  // governed by the default rule, which refuses it: no value is created.
  KbsClient bad(vm.rp.http_base());
  REQUIRE(bad.Auth().status == 200);
  REQUIRE(bad.Attest(AttestBody(bad.nonce, Evidence(kOtherMeasurement))).status == 200);
  Reply denied = bad.Send("POST", "/kbs/v0/vm-resource/luks/data", "{}");
  CHECK(denied.status == 401);
  CHECK(denied.Json().value("type", "") == std::string(kErr) + "PolicyDeny");
  CHECK(std::filesystem::is_empty(vm.vm_dir));

  RpFixture plain;  // no store: the plugin does not exist
  KbsClient c(plain.http_base());
  REQUIRE(c.Auth().status == 200);
  REQUIRE(c.Attest(AttestBody(c.nonce, GoodEvidence())).status == 200);
  Reply absent = c.Send("POST", "/kbs/v0/vm-resource/luks/data", "{}");
  CHECK(absent.status == 404);
  CHECK(absent.Json().value("type", "") == std::string(kErr) + "PluginNotFound");
}

}  // namespace
}  // namespace cvm::rp::testing
