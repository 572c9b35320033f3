#include "common/tcg_eventlog.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "common/encoding.h"
#include "tests/testing/testing.h"

namespace cvm::tcg {
namespace {

void PutLe32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void PutLe16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}

// A Spec ID event declaring `algs` (id, digest size) in order.
Bytes HeaderOf(const std::vector<std::pair<uint16_t, uint16_t>>& algs) {
  Bytes spec;
  std::string_view sig("Spec ID Event03\0", 16);
  spec.insert(spec.end(), sig.begin(), sig.end());
  PutLe32(spec, 0);                       // platform class
  spec.insert(spec.end(), {0, 2, 0, 2});  // minor, major, errata, uintn size
  PutLe32(spec, static_cast<uint32_t>(algs.size()));
  for (const auto& [alg, size] : algs) {
    PutLe16(spec, alg);
    PutLe16(spec, size);
  }
  spec.push_back(0);  // vendor info size
  Bytes out;
  PutLe32(out, 0);
  PutLe32(out, kEvNoAction);
  out.insert(out.end(), 20, 0);
  PutLe32(out, static_cast<uint32_t>(spec.size()));
  out.insert(out.end(), spec.begin(), spec.end());
  return out;
}

// A Spec ID event declaring `alg` `num_algs` times.
Bytes Header(uint32_t num_algs = 1, uint16_t alg = kAlgSha256, uint16_t size = 32) {
  return HeaderOf(std::vector<std::pair<uint16_t, uint16_t>>(num_algs, {alg, size}));
}

void AddEvent(Bytes& log, uint32_t index, uint32_t type, const Bytes& digest, const Bytes& data,
              uint16_t alg = kAlgSha256) {
  PutLe32(log, index);
  PutLe32(log, type);
  PutLe32(log, 1);
  PutLe16(log, alg);
  log.insert(log.end(), digest.begin(), digest.end());
  PutLe32(log, static_cast<uint32_t>(data.size()));
  log.insert(log.end(), data.begin(), data.end());
}

TEST_CASE("The real RHEL 8 UEFI log replays to exactly its expected PCRs in every bank") {
  auto log = ParseEventLog(testing::ReadData("vectors/tpm/rhel8-uefi.bin"));
  REQUIRE(log.ok());
  CHECK(log->crypto_agile);
  auto expected = nlohmann::json::parse(
      AsChars(testing::ReadData("vectors/tpm/rhel8-uefi.expected-pcrs.json")));
  Registers regs = Replay(*log, ReplayMode::kTpm);
  for (const auto& [bank, pcrs] : expected.items()) {
    uint16_t alg = bank == "sha1" ? kAlgSha1 : bank == "sha256" ? kAlgSha256 : kAlgSha384;
    INFO(bank);
    REQUIRE(regs.count(alg) == 1);
    CHECK(regs[alg].size() == pcrs.size());
    for (const auto& [index, value] : pcrs.items()) {
      INFO("PCR " << index);
      CHECK(HexEncode(regs[alg][static_cast<uint32_t>(std::stoul(index))]) ==
            value.get<std::string>());
    }
  }
}

TEST_CASE("The real Ubuntu 24.04 SEV-SNP vTPM log parses completely") {
  Bytes data = testing::ReadData("vectors/tpm/ubuntu-2404-amd-sevsnp.bin");
  auto log = ParseEventLog(data);
  REQUIRE(log.ok());
  CHECK(log->events.size() > 10);
  CHECK(EventTypeName(log->events[1].type).rfind("EV_", 0) == 0);
}

TEST_CASE("The real GCP CCEL replays to the quote's RTMR0-2 (index 1..3) and RTMR3 stays zero") {
  auto log = ParseEventLog(testing::ReadData("vectors/tdx/gcp-ccel/ccel_data.bin"));
  REQUIRE(log.ok());
  Registers regs = Replay(*log, ReplayMode::kCcel);
  Bytes quote = testing::ReadData("vectors/tdx/gcp-ccel/quote.bin");
  const size_t kRtmr0 = 0x30 + 328;  // quote header + body offset of RTMR0
  for (uint32_t i = 0; i < 3; ++i) {
    INFO("RTMR" << i);
    Bytes want(quote.begin() + static_cast<long>(kRtmr0 + 48 * i),
               quote.begin() + static_cast<long>(kRtmr0 + 48 * (i + 1)));
    CHECK(regs[kAlgSha384][i + 1] == want);
  }
  CHECK(regs[kAlgSha384].count(4) == 0);
}

TEST_CASE("The OVMF CCEL from Trustee parses, stopping at the 0xFF fill") {
  auto log =
      ParseEventLog(testing::ReadData("vectors/trustee/deps__verifier__test_data__CCEL_data_ovmf"));
  REQUIRE(log.ok());
  CHECK(log->algorithms.size() == 1);
  CHECK(log->algorithms[0].alg_id == kAlgSha384);
}

TEST_CASE("A StartupLocality event sets PCR0's initial last byte; EV_NO_ACTION is not extended") {
  Bytes log = Header();
  std::string_view sl("StartupLocality\0", 16);
  Bytes locality(sl.begin(), sl.end());
  locality.push_back(3);
  AddEvent(log, 0, kEvNoAction, Bytes(32, 0), locality);
  Bytes digest(32, 0xaa);
  AddEvent(log, 0, 0x8, digest, {});
  auto parsed = ParseEventLog(log);
  REQUIRE(parsed.ok());
  Bytes init(32, 0);
  init[31] = 3;
  init.insert(init.end(), digest.begin(), digest.end());
  CHECK(Replay(*parsed, ReplayMode::kTpm)[kAlgSha256][0] == Sha256(init));
  // In CCEL mode there is no locality.
  Bytes zero(32, 0);
  zero.insert(zero.end(), digest.begin(), digest.end());
  CHECK(Replay(*parsed, ReplayMode::kCcel)[kAlgSha256][0] == Sha256(zero));
}

TEST_CASE("A legacy SHA-1 log replays in the SHA-1 bank") {
  Bytes log;
  for (uint32_t i = 0; i < 2; ++i) {
    PutLe32(log, 4);
    PutLe32(log, 0x4);
    log.insert(log.end(), 20, static_cast<uint8_t>(i + 1));
    PutLe32(log, 4);
    PutLe32(log, 0);
  }
  auto parsed = ParseEventLog(log);
  REQUIRE(parsed.ok());
  CHECK_FALSE(parsed->crypto_agile);
  Bytes pcr(20, 0);
  for (uint8_t i = 1; i <= 2; ++i) {
    Bytes in = pcr;
    in.insert(in.end(), 20, i);
    pcr = Digest(DigestAlg::kSha1, in);
  }
  CHECK(Replay(*parsed, ReplayMode::kTpm)[kAlgSha1][4] == pcr);
}

TEST_CASE("Malformed logs are refused with the offset and the field") {
  CHECK(ParseEventLog({}).status().message() == "event log: empty");

  Bytes log = Header();
  AddEvent(log, 0, 0x8, Bytes(32, 1), Bytes(8, 0));
  Bytes truncated(log.begin(), log.end() - 3);
  auto t = ParseEventLog(truncated);
  REQUIRE_FALSE(t.ok());
  CHECK(t.status().code() == Code::kInvalidInput);
  CHECK(t.status().message().find("event data") != std::string::npos);

  Bytes undeclared = Header();
  AddEvent(undeclared, 0, 0x8, Bytes(48, 1), {}, kAlgSha384);
  CHECK(ParseEventLog(undeclared).status().message().find("not declared") != std::string::npos);

  Bytes too_many = Header();
  PutLe32(too_many, 0);
  PutLe32(too_many, 8);
  PutLe32(too_many, 1000);
  CHECK(ParseEventLog(too_many).status().message().find("1000 digests") != std::string::npos);

  CHECK_FALSE(ParseEventLog(Header(0)).ok());
  CHECK_FALSE(ParseEventLog(Header(1, kAlgSha256, 20)).ok());
  CHECK_FALSE(ParseEventLog(Header(1000)).ok());
}

TEST_CASE("An event carrying the same algorithm twice is refused instead of extended twice") {
  Bytes log = HeaderOf({{kAlgSha256, 32}, {kAlgSha384, 48}});
  PutLe32(log, 0);
  PutLe32(log, 0x8);
  PutLe32(log, 2);
  for (int i = 0; i < 2; ++i) {
    PutLe16(log, kAlgSha256);
    log.insert(log.end(), 32, 0xaa);
  }
  PutLe32(log, 0);
  auto parsed = ParseEventLog(log);
  CHECK(parsed.status().code() == Code::kInvalidInput);
  CHECK(parsed.status().message().find("sha256 appears twice in one event") != std::string::npos);
}

TEST_CASE("A Spec ID event declaring an algorithm twice is refused") {
  auto parsed = ParseEventLog(Header(2));
  CHECK(parsed.status().code() == Code::kInvalidInput);
  CHECK(parsed.status().message().find("declared twice") != std::string::npos);
}

TEST_CASE("Huge declared event sizes fail cleanly instead of allocating") {
  Bytes log = Header();
  PutLe32(log, 0);
  PutLe32(log, 8);
  PutLe32(log, 1);
  PutLe16(log, kAlgSha256);
  log.insert(log.end(), 32, 0);
  PutLe32(log, 0xFFFFFFF0u);
  log.push_back(1);
  CHECK(ParseEventLog(log).status().code() == Code::kInvalidInput);
}

TEST_CASE("Algorithm and event type names") {
  CHECK(TpmAlgName(kAlgSha384) == "sha384");
  CHECK(TpmAlgName(0x0099) == "0x0099");
  CHECK(EventTypeName(0x80000001) == "EV_EFI_VARIABLE_DRIVER_CONFIG");
  CHECK(EventTypeName(0x12345678) == "0x12345678");
}

}  // namespace
}  // namespace cvm::tcg
