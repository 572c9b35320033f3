#include "tpm/eventlog.h"

#include "common/encoding.h"

namespace cvm::tpm {
namespace {

std::string Name(DigestAlg alg, uint32_t index) {
  return std::string(DigestName(alg)) + ":" + std::to_string(index);
}

Status Violations(const std::vector<std::string>& problems, std::string_view what) {
  if (problems.empty()) return Status::Ok();
  std::string msg = std::string(what) + ": " + std::to_string(problems.size()) + " PCR" +
                    (problems.size() == 1 ? "" : "s") + " differ: ";
  for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
  return Rejected(msg);
}

}  // namespace

Result<tcg::EventLog> ParseTpmEventLog(ByteSpan data) {
  // The first event always has the legacy header (the Spec ID event of a crypto-agile log is one
  // too): PCR index, event type, SHA-1 digest, event size.
  constexpr size_t kHeader = 4 + 4 + 20 + 4;
  if (data.size() < kHeader) {
    return InvalidInput("not a TCG event log: " + std::to_string(data.size()) +
                        " bytes, shorter than one event header (32)");
  }
  const uint32_t pcr = LoadLe32(data, 0);
  const uint32_t size = LoadLe32(data, 28);
  if (pcr > kMaxPcr) {
    return InvalidInput("not a TCG event log: the first event would extend PCR " +
                        std::to_string(pcr) + " (PCRs are 0-23)");
  }
  if (size > data.size() - kHeader) {
    return InvalidInput("not a TCG event log: the first event claims " + std::to_string(size) +
                        " bytes of data, more than the file's " + std::to_string(data.size()));
  }
  return tcg::ParseEventLog(data);
}

PcrValues ReplayPcrs(const tcg::EventLog& log) {
  PcrValues out;
  for (const auto& [alg_id, registers] : tcg::Replay(log, tcg::ReplayMode::kTpm)) {
    std::optional<DigestAlg> alg = tcg::DigestAlgFromTpm(alg_id);
    if (!alg) continue;
    for (const auto& [index, value] : registers) out[*alg][index] = value;
  }
  return out;
}

PcrValues PcrsCoveredByEventLog(const PcrValues& quoted, const tcg::EventLog& log,
                                std::vector<std::string>* not_covered) {
  constexpr uint32_t kLastBootPcr = 9;
  const PcrValues replayed = ReplayPcrs(log);
  PcrValues covered;
  for (const auto& [alg, bank] : quoted) {
    auto extended = replayed.find(alg);
    for (const auto& [index, value] : bank) {
      if (index <= kLastBootPcr ||
          (extended != replayed.end() && extended->second.count(index) != 0)) {
        covered[alg][index] = value;
      } else if (not_covered != nullptr) {
        not_covered->push_back(Name(alg, index));
      }
    }
  }
  return covered;
}

Status ValidatePcrsAgainstEventLog(const PcrValues& quoted, const tcg::EventLog& log) {
  PcrValues replayed = ReplayPcrs(log);
  bool log_has_bank = false;
  std::vector<std::string> problems;
  for (const auto& [alg, bank] : quoted) {
    log_has_bank = false;
    for (const auto& a : log.algorithms) log_has_bank |= tcg::DigestAlgFromTpm(a.alg_id) == alg;
    if (!log_has_bank) {
      problems.push_back(std::string("the event log has no ") + std::string(DigestName(alg)) +
                         " bank");
      continue;
    }
    for (const auto& [index, value] : bank) {
      Bytes want(DigestSize(alg), 0);
      auto b = replayed.find(alg);
      if (b != replayed.end() && b->second.count(index)) want = b->second.at(index);
      if (value != want) {
        problems.push_back(Name(alg, index) + " is " + HexEncode(value) +
                           " but the event log replays to " + HexEncode(want));
      }
    }
  }
  return Violations(problems, "PCRs vs event log");
}

Status ValidateExpectedPcrs(const PcrValues& actual, const PcrValues& expected) {
  std::vector<std::string> problems;
  for (const auto& [alg, bank] : expected) {
    for (const auto& [index, value] : bank) {
      auto b = actual.find(alg);
      if (b == actual.end() || !b->second.count(index)) {
        problems.push_back(Name(alg, index) + " is expected but was not quoted");
      } else if (b->second.at(index) != value) {
        problems.push_back(Name(alg, index) + " is " + HexEncode(b->second.at(index)) +
                           ", expected " + HexEncode(value));
      }
    }
  }
  return Violations(problems, "expected PCR values");
}

}  // namespace cvm::tpm
