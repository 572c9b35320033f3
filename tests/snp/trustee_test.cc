// The Genoa report in Trustee's end-to-end evidence (serde JSON of the virtee/sev structs):
// re-encoded to the ABI bytes, it must verify with its VCEK and AMD's roots.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "snp/verify.h"
#include "tests/snp/fixtures.h"
#include "tests/testing/testing.h"

namespace cvm::snp {
namespace {

template <size_t N>
std::array<uint8_t, N> Arr(const nlohmann::json& j) {
  std::array<uint8_t, N> a{};
  REQUIRE(j.size() == N);
  for (size_t i = 0; i < N; ++i) a[i] = j[i].get<uint8_t>();
  return a;
}

uint64_t Tcb(const nlohmann::json& j) {
  TcbParts t{0, j["bootloader"].get<uint8_t>(), j["tee"].get<uint8_t>(), j["snp"].get<uint8_t>(),
             j["microcode"].get<uint8_t>()};
  return EncodeTcb(t, Product::kGenoa);
}

struct TrusteeEvidence {
  Bytes report;
  Certificate vcek;
};

TrusteeEvidence Load() {
  Bytes raw =
      cvm::testing::ReadData("vectors/trustee/attestation-service__tests__e2e__evidence.json");
  auto j = nlohmann::json::parse(raw.begin(), raw.end());
  const auto& a = j["attestation_report"];
  Report r;
  r.version = a["version"];
  r.guest_svn = a["guest_svn"];
  r.policy = a["policy"];
  r.family_id = Arr<16>(a["family_id"]);
  r.image_id = Arr<16>(a["image_id"]);
  r.vmpl = a["vmpl"];
  r.signature_algo = a["sig_algo"];
  r.current_tcb = Tcb(a["current_tcb"]);
  r.platform_info = a["plat_info"];
  r.signer_info = a["key_info"];
  r.report_data = Arr<64>(a["report_data"]);
  r.measurement = Arr<48>(a["measurement"]);
  r.host_data = Arr<32>(a["host_data"]);
  r.id_key_digest = Arr<48>(a["id_key_digest"]);
  r.author_key_digest = Arr<48>(a["author_key_digest"]);
  r.report_id = Arr<32>(a["report_id"]);
  r.report_id_ma = Arr<32>(a["report_id_ma"]);
  r.reported_tcb = Tcb(a["reported_tcb"]);
  r.cpuid_fam_id = a["cpuid_fam_id"];
  r.cpuid_mod_id = a["cpuid_mod_id"];
  r.cpuid_step = a["cpuid_step"];
  r.chip_id = Arr<64>(a["chip_id"]);
  r.committed_tcb = Tcb(a["committed_tcb"]);
  r.current_build = a["current"]["build"];
  r.current_minor = a["current"]["minor"];
  r.current_major = a["current"]["major"];
  r.committed_build = a["committed"]["build"];
  r.committed_minor = a["committed"]["minor"];
  r.committed_major = a["committed"]["major"];
  r.launch_tcb = Tcb(a["launch_tcb"]);
  r.signature_r = Arr<72>(a["signature"]["r"]);
  r.signature_s = Arr<72>(a["signature"]["s"]);
  auto der = j["cert_chain"][0]["data"].get<std::vector<uint8_t>>();
  return {SerializeReport(r), *Certificate::FromDer(der)};
}

TEST_CASE("Trustee's Genoa (model 0xA0) report verifies with its VCEK and AMD's roots") {
  TrusteeEvidence e = Load();
  VerifyOptions o;
  o.certs = {e.vcek};
  o.at = *e.vcek.NotBefore() + std::chrono::hours(24);
  auto r = VerifyReport(e.report, o);
  REQUIRE(r.ok());
  CHECK(r->product == Product::kGenoa);
  CHECK(r->report.cpuid_mod_id == 0xA0);
}

TEST_CASE("Trustee's report with one byte changed is rejected") {
  TrusteeEvidence e = Load();
  e.report[0x60] ^= 1;
  VerifyOptions o;
  o.certs = {e.vcek};
  o.at = *e.vcek.NotBefore() + std::chrono::hours(24);
  CHECK(VerifyReport(e.report, o).status().code() == Code::kRejected);
}

}  // namespace
}  // namespace cvm::snp
