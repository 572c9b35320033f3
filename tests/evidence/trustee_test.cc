// Trustee tee-evidence: every sample parses, conversions are byte-exact both ways.
#include "evidence/trustee.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "evidence/json_util.h"
#include "snp/report.h"
#include "tests/testing/testing.h"

namespace cvm::evidence {
namespace {

using nlohmann::json;

std::string Sample(const std::string& name) {
  Bytes b = cvm::testing::ReadData("vectors/trustee/" + name);
  return std::string(b.begin(), b.end());
}

// JSON equality where an absent member and a null member are the same (serde's Option).
json DropNulls(const json& j) {
  if (j.is_object()) {
    json out = json::object();
    for (const auto& [k, v] : j.items()) {
      if (!v.is_null()) out[k] = DropNulls(v);
    }
    return out;
  }
  if (j.is_array()) {
    json out = json::array();
    for (const auto& v : j) out.push_back(DropNulls(v));
    return out;
  }
  return j;
}

constexpr char kE2e[] = "attestation-service__tests__e2e__evidence.json";
constexpr char kAzV0[] = "deps__verifier__test_data__az-snp-vtpm__evidence-v0.json";
constexpr char kAzV1[] = "deps__verifier__test_data__az-snp-vtpm__evidence-v1.json";
constexpr char kAzV2[] = "deps__verifier__test_data__az-snp-vtpm__evidence-v2.json";
constexpr char kTpm[] = "deps__verifier__test_data__tpm_evidence.json";

TEST_CASE("Trustee's e2e SNP evidence parses into a Genoa report and its VCEK") {
  auto b = FromTrusteeEvidenceFile(TeeKind::kSnp, Sample(kE2e));
  REQUIRE(b.ok());
  CHECK(b->tee == TeeKind::kSnp);
  CHECK(b->report.size() == snp::kReportSize);
  CHECK(b->certs.size() == 1);
  auto r = snp::ParseReport(b->report);
  REQUIRE(r.ok());
  CHECK(snp::ProductFromCpuid(*r) == snp::Product::kGenoa);
}

TEST_CASE("SNP evidence JSON -> bytes -> JSON gives the same JSON") {
  json in = json::parse(Sample(kE2e));
  auto b = FromTrusteeEvidenceFile(TeeKind::kSnp, in.dump());
  REQUIRE(b.ok());
  auto out = ToTrusteeEvidence(*b);
  REQUIRE(out.ok());
  CHECK(DropNulls(out->primary) == DropNulls(in));
  CHECK(out->additional.empty());
}

TEST_CASE("SNP report bytes -> sev JSON -> bytes is byte-exact for real reports") {
  for (const char* path : {"vectors/snp/milan-v2/report.bin", "vectors/snp/genoa-v3/report.bin"}) {
    INFO(path);
    Bytes report = cvm::testing::ReadData(path);
    auto j = SnpReportToSevJson(report);
    REQUIRE(j.ok());
    auto back = SnpReportFromSevJson(json::parse(j->dump()));
    REQUIRE(back.ok());
    CHECK(*back == report);
  }
}

TEST_CASE("A version 2 report has null CPUID fields in the sev JSON") {
  auto j = SnpReportToSevJson(cvm::testing::ReadData("vectors/snp/milan-v2/report.bin"));
  REQUIRE(j.ok());
  CHECK((*j)["cpuid_fam_id"].is_null());
  CHECK((*j)["current_tcb"]["fmc"].is_null());
  CHECK((*j)["launch_mit_vector"].is_null());
}

TEST_CASE("A Turin report uses the FMC TCB layout in the sev JSON and converts back") {
  snp::Report r;
  r.version = 3;
  r.cpuid_fam_id = 0x1A;
  r.cpuid_mod_id = 0x02;
  r.chip_id[0] = 7;
  snp::TcbParts t{.fmc = 1, .bootloader = 2, .tee = 3, .snp = 4, .microcode = 5};
  r.reported_tcb = snp::EncodeTcb(t, snp::Product::kTurin);
  Bytes bytes = snp::SerializeReport(r);
  auto j = SnpReportToSevJson(bytes);
  REQUIRE(j.ok());
  CHECK((*j)["reported_tcb"]["fmc"] == 1);
  CHECK((*j)["reported_tcb"]["snp"] == 4);
  auto back = SnpReportFromSevJson(json::parse(j->dump()));
  REQUIRE(back.ok());
  CHECK(*back == bytes);
}

TEST_CASE("A report with reserved TCB bytes set is refused rather than converted lossily") {
  Bytes report = cvm::testing::ReadData("vectors/snp/genoa-v3/report.bin");
  report[0x180 + 3] = 1;  // REPORTED_TCB byte 3 is reserved on Genoa
  auto j = SnpReportToSevJson(report);
  REQUIRE_FALSE(j.ok());
  CHECK(j.status().code() == Code::kInvalidInput);
}

TEST_CASE("SNP evidence with an unknown member is refused naming it") {
  json in = json::parse(Sample(kE2e));
  in["attestation_report"]["extra"] = 1;
  auto b = FromTrusteeEvidenceFile(TeeKind::kSnp, in.dump());
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().ToString().find("attestation_report.extra") != std::string::npos);
}

TEST_CASE("SNP evidence with a short byte array is refused naming the field") {
  json in = json::parse(Sample(kE2e));
  in["attestation_report"]["chip_id"].erase(0);
  auto b = FromTrusteeEvidenceFile(TeeKind::kSnp, in.dump());
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().ToString().find("attestation_report.chip_id") != std::string::npos);
}

TEST_CASE("SNP evidence without cert_chain is refused; null is accepted") {
  json in = json::parse(Sample(kE2e));
  in["cert_chain"] = nullptr;
  auto b = FromTrusteeEvidenceFile(TeeKind::kSnp, in.dump());
  REQUIRE(b.ok());
  CHECK(b->certs.empty());
  auto out = ToTrusteeEvidence(*b);
  REQUIRE(out.ok());
  CHECK(out->primary["cert_chain"].is_null());
  in.erase("cert_chain");
  CHECK_FALSE(FromTrusteeEvidenceFile(TeeKind::kSnp, in.dump()).ok());
}

TEST_CASE("Azure SNP evidence v0, v1 and v2 parse and convert back to the same JSON") {
  for (auto [name, version] : {std::pair{kAzV0, 0}, std::pair{kAzV1, 1}, std::pair{kAzV2, 2}}) {
    INFO(name);
    json in = json::parse(Sample(name));
    auto b = FromTrusteeEvidenceFile(TeeKind::kAzSnpVtpm, in.dump());
    REQUIRE(b.ok());
    CHECK(b->azure_evidence_version == version);
    CHECK(b->report.size() == 2600);
    REQUIRE(b->tpm.has_value());
    CHECK(b->tpm->pcrs.at(DigestAlg::kSha256).size() == 24);
    auto out = ToTrusteeEvidence(*b);
    REQUIRE(out.ok());
    CHECK(out->primary == in);
  }
}

TEST_CASE("Arrays of bytes parsed as binary values are exactly the arrays, nothing else is") {
  auto j = ParseJsonText(R"([[1,2,255],[1,256],[1,-1],[],[1,"a"],[3,[4]],{"b":[5]}])", "t",
                         /*bytes_as_binary=*/true);
  REQUIRE(j.ok());
  json want = json::array({json::binary({1, 2, 255}),
                           json::array({1, 256}),
                           json::array({1, -1}),
                           json::array(),
                           json::array({1, "a"}),
                           json::array({3, json::binary({4})}),
                           {{"b", json::binary({5})}}});
  CHECK(*j == want);
  auto plain = ParseJsonText("[1,2]", "t");
  REQUIRE(plain.ok());
  CHECK(plain->is_array());
}

TEST_CASE("Evidence parsed with binary byte arrays gives the same bundle and the same refusals") {
  for (auto [name, tee] :
       {std::pair{kE2e, TeeKind::kSnp}, std::pair{kAzV0, TeeKind::kAzSnpVtpm},
        std::pair{kAzV1, TeeKind::kAzSnpVtpm}, std::pair{kAzV2, TeeKind::kAzSnpVtpm}}) {
    INFO(name);
    std::string text = Sample(name);
    auto arrays = ParseJsonText(text, "evidence");
    auto binary = ParseJsonText(text, "evidence", /*bytes_as_binary=*/true);
    REQUIRE(arrays.ok());
    REQUIRE(binary.ok());
    if (tee == TeeKind::kSnp) CHECK(*arrays != *binary);  // Azure v0/v1 carry base64 strings
    auto a = FromTrusteeEvidence(tee, *arrays, "", DigestAlg::kSha384, "n", json::object());
    auto b = FromTrusteeEvidence(tee, *binary, "", DigestAlg::kSha384, "n", json::object());
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a->report == b->report);
    CHECK(a->certs == b->certs);
    CHECK(a->td_quote == b->td_quote);
    REQUIRE(a->tpm.has_value() == b->tpm.has_value());
    if (a->tpm) {
      CHECK(a->tpm->attest == b->tpm->attest);
      CHECK(a->tpm->pcrs == b->tpm->pcrs);
    }
  }
  json in = json::parse(Sample(kE2e));
  in["attestation_report"]["chip_id"].erase(0);
  auto short_chip = ParseJsonText(in.dump(), "evidence", /*bytes_as_binary=*/true);
  REQUIRE(short_chip.ok());
  auto refused =
      FromTrusteeEvidence(TeeKind::kSnp, *short_chip, "", DigestAlg::kSha384, "n", json::object());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().ToString().find("attestation_report.chip_id: 63 bytes, expected 64") !=
        std::string::npos);
}

TEST_CASE("Trustee's tpm evidence converts to TPM evidence and back") {
  json in = json::parse(Sample(kTpm));
  auto t = FromTrusteeTpmEvidence(in);
  REQUIRE(t.ok());
  CHECK(t->pcrs.at(DigestAlg::kSha256).size() == 24);
  auto out = ToTrusteeTpmEvidence(*t);
  REQUIRE(out.ok());
  CHECK(*out == in);
}

TEST_CASE("TDX evidence with the OVMF CCEL sample round-trips") {
  Bytes quote = cvm::testing::ReadData("vectors/tdx/v4-dcap/quote.bin");
  Bytes ccel = cvm::testing::ReadData("vectors/trustee/deps__verifier__test_data__CCEL_data_ovmf");
  json in = {{"cc_eventlog", Base64Encode(ccel)}, {"quote", Base64Encode(quote)}};
  auto b = FromTrusteeEvidenceFile(TeeKind::kTdx, in.dump());
  REQUIRE(b.ok());
  CHECK(b->report == quote);
  CHECK(b->ccel == ccel);
  auto out = ToTrusteeEvidence(*b);
  REQUIRE(out.ok());
  CHECK(out->primary == in);
}

TEST_CASE("The 0.4.0 wrapper with tpm additional evidence fills the bundle's TPM part") {
  json primary = json::parse(Sample(kE2e));
  std::string additional = json{{"tpm", json::parse(Sample(kTpm))}}.dump();
  auto b = FromTrusteeEvidence(TeeKind::kSnp, primary, additional, DigestAlg::kSha384, "n0nce",
                               json{{"kty", "EC"}});
  REQUIRE(b.ok());
  REQUIRE(b->tpm.has_value());
  REQUIRE(b->runtime_data.has_value());
  CHECK((*b->runtime_data)["additional-evidence"] == additional);
  CHECK((*b->runtime_data)["nonce"] == "n0nce");
  auto out = ToTrusteeEvidence(*b);
  REQUIRE(out.ok());
  CHECK(out->additional == additional);
}

TEST_CASE("Additional evidence of a device this build does not appraise is refused") {
  json primary = json::parse(Sample(kE2e));
  // ("nvidia" is appraised since GPUs joined the bundle: gpu_bundle_test.cc.)
  auto b = FromTrusteeEvidence(TeeKind::kSnp, primary, R"({"sgx":{}})", DigestAlg::kSha384, "n",
                               json::object());
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().code() == Code::kUnsupported);
}

TEST_CASE("The TEE kind of a tee-evidence file is recognised from its content") {
  CHECK(*GuessTrusteeKind(Sample(kE2e)) == TeeKind::kSnp);
  CHECK(*GuessTrusteeKind(Sample(kAzV0)) == TeeKind::kAzSnpVtpm);
  CHECK(*GuessTrusteeKind(Sample(kAzV2)) == TeeKind::kAzSnpVtpm);
  CHECK(*GuessTrusteeKind(R"({"cc_eventlog":null,"quote":"AAAA"})") == TeeKind::kTdx);
  CHECK_FALSE(GuessTrusteeKind("{}").ok());
}

}  // namespace
}  // namespace cvm::evidence
