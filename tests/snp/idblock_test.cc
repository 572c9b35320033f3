// SNP ID block and ID auth, the generated relying-party policy, and the whole pipeline against the
// simulator: measure -> idblock -> policy generate -> launch -> cvmctl verify --policy.
#include "snp/idblock.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/digest.h"
#include "common/encoding.h"
#include "common/file_util.h"
#include "common/keys.h"
#include "snp/policy.h"
#include "snp/policy_gen.h"
#include "snp/sim_launch.h"
#include "tests/snp/fixtures.h"
#include "tests/snp/measure_vectors.h"
#include "tests/testing/testing.h"

namespace cvm::snp {
namespace {

using nlohmann::json;
using testing::Cvmctl;
using testing::MeasureVectorDir;

ossl::PKey Key(const std::string& file) {
  auto pem = ReadTextFile(MeasureVectorDir() + "/" + file);
  REQUIRE(pem.ok());
  auto key = LoadSnpSigningKey(*pem);
  REQUIRE(key.ok());
  return std::move(*key);
}

TEST_CASE("Every ID block case in cases.json reproduces bit for bit", "[measure]") {
  size_t n = 0;
  for (const json& c : testing::MeasureCases()) {
    if (c["kind"] != "id_block") continue;
    INFO("case " << c["name"].get<std::string>());
    IdBlockParams p;
    p.measurement = *HexDecode(c["launch_digest"].get<std::string>());
    p.family_id = *HexDecode(c["family_id"].get<std::string>());
    p.image_id = *HexDecode(c["image_id"].get<std::string>());
    p.version = c["version"];
    p.guest_svn = c["guest_svn"];
    p.policy = std::stoull(c["policy"].get<std::string>(), nullptr, 16);
    ossl::PKey id = Key(c["id_key"]);
    ossl::PKey author = Key(c["author_key"]);
    auto s = SignIdBlock(p, id.get(), author.get());
    REQUIRE(s.ok());
    const json& e = c["expected"];
    CHECK(HexEncode(s->id_block) == e["id_block_hex"]);
    CHECK(Base64Encode(s->id_block) == e["id_block_b64"]);
    CHECK(HexEncode(s->id_key_digest) == e["id_key_digest_hex"]);
    CHECK(HexEncode(s->author_key_digest) == e["author_key_digest_hex"]);
    CHECK(Base64Encode(s->author_key_digest) == e["author_key_digest_b64"]);
    // The signatures are randomized: check them as the firmware does.
    REQUIRE(s->id_auth.size() == kIdAuthSize);
    auto v = VerifyIdBlock(s->id_block, s->id_auth);
    REQUIRE(v.ok());
    CHECK(v->id_key_digest == s->id_key_digest);
    CHECK(v->author_key_digest == s->author_key_digest);
    ++n;
  }
  CHECK(n >= 1);
}

TEST_CASE("ID auth holds both signatures in the ABI layout", "[measure]") {
  ossl::PKey id = Key("id_key_test.pem");
  ossl::PKey author = Key("author_key_test.pem");
  IdBlockParams p;
  p.measurement = Bytes(48, 7);
  auto s = SignIdBlock(p, id.get(), author.get());
  REQUIRE(s.ok());
  CHECK(LoadLe32(s->id_auth, 0) == 1);
  CHECK(LoadLe32(s->id_auth, 4) == 1);
  Bytes id_pub = *SnpPublicKey(id.get());
  CHECK(Bytes(s->id_auth.begin() + 0x240, s->id_auth.begin() + 0x644) == id_pub);
  CHECK(Bytes(s->id_auth.begin() + 0x880, s->id_auth.begin() + 0xc84) ==
        *SnpPublicKey(author.get()));
  CHECK(SnpVerify(id.get(), s->id_block, ByteSpan(s->id_auth).subspan(0x40, 0x200)).ok());
  CHECK(SnpVerify(author.get(), id_pub, ByteSpan(s->id_auth).subspan(0x680, 0x200)).ok());
  CHECK(IsAllZero(ByteSpan(s->id_auth).subspan(0xc84)));
}

TEST_CASE("A tampered ID block or ID auth does not verify", "[measure]") {
  ossl::PKey id = Key("id_key_test.pem");
  ossl::PKey author = Key("author_key_test.pem");
  IdBlockParams p;
  p.measurement = Bytes(48, 7);
  auto s = SignIdBlock(p, id.get(), author.get());
  REQUIRE(s.ok());
  Bytes block = s->id_block;
  block[0] ^= 1;
  CHECK(VerifyIdBlock(block, s->id_auth).status().code() == Code::kRejected);
  Bytes auth = s->id_auth;
  auth[0x680] ^= 1;
  CHECK(VerifyIdBlock(s->id_block, auth).status().code() == Code::kRejected);
  auth = s->id_auth;
  auth[0x3] = 1;
  CHECK(VerifyIdBlock(s->id_block, auth).status().code() == Code::kInvalidInput);
  CHECK(!VerifyIdBlock(s->id_block, ByteSpan(s->id_auth).first(100)).ok());
}

TEST_CASE("ID keys load from SEC1 and PKCS#8 PEM and must be P-384", "[measure]") {
  ossl::PKey id = Key("id_key_test.pem");
  auto pkcs8 = PrivateKeyToPem(id.get());
  REQUIRE(pkcs8.ok());
  auto again = LoadSnpSigningKey(pkcs8->chars());
  REQUIRE(again.ok());
  CHECK(*SnpKeyDigest(again->get()) == *SnpKeyDigest(id.get()));
  auto p256 = GenerateEcKey(Curve::kP256);
  REQUIRE(p256.ok());
  auto r = LoadSnpSigningKey(PrivateKeyToPem(p256->get())->chars());
  REQUIRE(!r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("P-384"));
}

TEST_CASE("ID block fields are checked against the ABI", "[measure]") {
  IdBlockParams p;
  p.measurement = Bytes(47);
  CHECK(!EncodeIdBlock(p).ok());
  p.measurement = Bytes(48);
  p.version = 2;
  CHECK(!EncodeIdBlock(p).ok());
  p.version = 1;
  p.policy = 0x1;
  CHECK_THAT(EncodeIdBlock(p).status().message(), Catch::Contains("bit 17"));
  p.policy = 0x30000;
  p.guest_svn = 5;
  Bytes b = *EncodeIdBlock(p);
  CHECK(LoadLe32(b, 0x54) == 5);
  CHECK(LoadLe64(b, 0x58) == 0x30000);
}

TEST_CASE("cvmctl idblock prints base64 block and auth and hex key digests", "[measure]") {
  const std::string dir = MeasureVectorDir();
  for (const json& c : testing::MeasureCases()) {
    if (c["kind"] != "id_block") continue;
    auto r = Cvmctl({"idblock", "--json", "--measurement", c["launch_digest"], "--id-key",
                     dir + "/" + c["id_key"].get<std::string>(), "--author-key",
                     dir + "/" + c["author_key"].get<std::string>(), "--policy", c["policy"],
                     "--family-id", c["family_id"], "--image-id", c["image_id"], "--version",
                     std::to_string(c["version"].get<int>()), "--guest-svn",
                     std::to_string(c["guest_svn"].get<int>())});
    REQUIRE(r.exit_code == 0);
    json j = json::parse(r.out);
    CHECK(j["id_block"] == c["expected"]["id_block_b64"]);
    CHECK(j["id_key_digest"] == c["expected"]["id_key_digest_hex"]);
    CHECK(j["author_key_digest"] == c["expected"]["author_key_digest_hex"]);
    CHECK(VerifyIdBlock(*Base64Decode(j["id_block"].get<std::string>()),
                        *Base64Decode(j["id_auth"].get<std::string>()))
              .ok());
  }
  auto bad = Cvmctl({"idblock", "--measurement", "00", "--id-key", dir + "/id_key_test.pem",
                     "--author-key", dir + "/author_key_test.pem"});
  CHECK(bad.exit_code == 2);
  auto nokey = Cvmctl({"idblock", "--measurement", std::string(96, '0'), "--id-key",
                       dir + "/empty.bin", "--author-key", dir + "/author_key_test.pem"});
  CHECK(nokey.exit_code == 2);
}

TEST_CASE("The generated SNP policy parses back to the same expected values", "[measure]") {
  ReferenceValues v;
  v.measurements = {Bytes(48, 1), Bytes(48, 2)};
  v.id_key_digest = Bytes(48, 3);
  v.author_key_digest = Bytes(48, 4);
  v.host_data = Bytes(32, 5);
  v.family_id = Bytes(16, 6);
  v.image_id = Bytes(16, 7);
  v.min_guest_svn = 2;
  v.min_tcb = TcbParts{.fmc = 0, .bootloader = 9, .tee = 0, .snp = 23, .microcode = 72};
  auto yaml = FormatSnpPolicy(v);
  REQUIRE(yaml.ok());
  auto o = ParsePolicy(*yaml);
  REQUIRE(o.ok());
  CHECK(o->measurements == v.measurements);
  CHECK(o->id_key_digests == std::vector<Bytes>{*v.id_key_digest});
  CHECK(o->author_key_digests == std::vector<Bytes>{*v.author_key_digest});
  CHECK(o->host_data == v.host_data);
  CHECK(o->family_id == v.family_id);
  CHECK(o->image_id == v.image_id);
  CHECK(o->min_guest_svn == 2u);
  CHECK(o->min_reported_tcb == v.min_tcb);
  CHECK(!o->allow_debug);
  CHECK(!o->allow_migrate_ma);
  v.measurements.clear();
  CHECK(!FormatSnpPolicy(v).ok());
}

TEST_CASE("Trustee reference values name what its default policy reads", "[measure]") {
  ReferenceValues v;
  v.measurements = {Bytes(48, 0xaa)};
  v.min_tcb = TcbParts{.fmc = 0, .bootloader = 250, .tee = 0, .snp = 23, .microcode = 72};
  auto r = TrusteeReferenceValues(v);
  REQUIRE(r.ok());
  CHECK((*r)["snp_launch_measurement"] == json::array({HexEncode(Bytes(48, 0xaa))}));
  CHECK((*r)["snp_bootloader"] == json::array({250, 251, 252, 253, 254, 255}));
  CHECK((*r)["snp_microcode"].size() == 256 - 72);
  json m = TrusteeRvpsMessage(*r);
  CHECK(m["type"] == "sample");
  CHECK(json::parse(AsChars(*Base64Decode(m["payload"].get<std::string>()))) == *r);
}

// measure -> idblock -> policy generate -> launch the simulator -> verify --policy.
TEST_CASE("A simulated launch of the measured image verifies against the generated policy",
          "[measure]") {
  cvm::testing::TempDir dir;
  const std::string vec = MeasureVectorDir();
  auto m = Cvmctl({"measure", "snp", "--ovmf", vec + "/ovmf_AmdSev_suffix.bin", "--vcpus", "4",
                   "--vcpu-type", "EPYC-Genoa", "--kernel", vec + "/empty.bin", "--append",
                   "root=/dev/vda ro", "--guest-features", "0x21"});
  REQUIRE(m.exit_code == 0);
  const std::string measurement = m.out.substr(0, 96);
  auto ib = Cvmctl({"idblock", "--json", "--measurement", measurement, "--id-key",
                    vec + "/id_key_test.pem", "--author-key", vec + "/author_key_test.pem",
                    "--family-id", "00112233445566778899aabbccddeeff", "--guest-svn", "3"});
  REQUIRE(ib.exit_code == 0);
  REQUIRE(WriteFileAtomic(dir.File("idblock.json"), ib.out).ok());
  auto pol = Cvmctl({"policy", "generate", "--idblock-json", dir.File("idblock.json"),
                     "--host-data", std::string(64, 'c'), "--output", dir.File("policy.yaml")});
  REQUIRE(pol.exit_code == 0);
  json idj = json::parse(ib.out);

  const SimSnp& sim = testing::SimGenoa();
  REQUIRE(WriteFileAtomic(dir.File("vcek.pem"), sim.vcek().Pem()).ok());
  REQUIRE(WriteFileAtomic(dir.File("ask.pem"), sim.ask().Pem()).ok());
  REQUIRE(WriteFileAtomic(dir.File("ark.pem"), sim.ark().Pem()).ok());
  auto launch = [&](const std::string& measurement_hex, const std::string& out) {
    SimReportRequest q = testing::Request();
    Bytes mb = *HexDecode(measurement_hex);
    std::copy(mb.begin(), mb.end(), q.measurement.begin());
    q.host_data.fill(0xcc);
    Status st = ApplyIdBlock(q, *Base64Decode(idj["id_block"].get<std::string>()),
                             *Base64Decode(idj["id_auth"].get<std::string>()));
    if (!st.ok()) return st;
    auto report = sim.MakeReport(q);
    if (!report.ok()) return report.status();
    return WriteFileAtomic(dir.File(out), *report);
  };
  REQUIRE(launch(measurement, "good.bin").ok());
  auto verify = [&](const std::string& report) {
    return Cvmctl({"verify", "--json", dir.File(report), "--cert", dir.File("vcek.pem"), "--cert",
                   dir.File("ask.pem"), "--root", dir.File("ark.pem"), "--policy",
                   dir.File("policy.yaml")});
  };
  auto ok = verify("good.bin");
  INFO(ok.out << ok.err);
  CHECK(ok.exit_code == 0);

  // Another image: the firmware refuses the ID block, and without it the report does not match.
  std::string other = measurement;
  other[0] = other[0] == '0' ? '1' : '0';
  CHECK(launch(other, "bad.bin").code() == Code::kRejected);
  // Even a report that carries the genuine ID block's fields is refused for its measurement.
  SimReportRequest q = testing::Request();
  Bytes good = *HexDecode(measurement);
  std::copy(good.begin(), good.end(), q.measurement.begin());
  q.host_data.fill(0xcc);
  REQUIRE(ApplyIdBlock(q, *Base64Decode(idj["id_block"].get<std::string>()),
                       *Base64Decode(idj["id_auth"].get<std::string>()))
              .ok());
  q.measurement[47] ^= 0x01;
  REQUIRE(WriteFileAtomic(dir.File("bad.bin"), *sim.MakeReport(q)).ok());
  auto bad = verify("bad.bin");
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.out, Catch::Contains("measurement"));
}

}  // namespace
}  // namespace cvm::snp
