// cvmctl eventlog replay: a TCG PC Client event log into PCR values, or a TDX CCEL into RTMRs.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/output.h"
#include "cli/tee_commands.h"
#include "common/args.h"
#include "common/encoding.h"
#include "common/tcg_eventlog.h"
#include "tdx/ccel.h"
#include "tpm/eventlog.h"

namespace cvm::cli {
namespace {

using Json = nlohmann::ordered_json;

void PrintJson(const Json& j) { std::printf("%s\n", j.dump(2).c_str()); }

// ---- eventlog replay ------------------------------------------------------------------------

int EventlogReplay(Args args) {
  bool ccel = false, json = false;
  std::vector<std::string> files;
  ArgParser parser("cvmctl eventlog replay", "FILE [--ccel] [--json]",
                   "Replays a TCG PC Client event log (crypto-agile or legacy SHA-1) into PCR\n"
                   "values per bank, or with --ccel a TDX CC event log into RTMR0-3 (SHA-384,\n"
                   "log index 1-4). FILE '-' reads stdin.");
  parser.Flag("ccel", 0, "the log is a TDX CCEL: replay into RTMRs", &ccel);
  parser.Flag("json", 0, "print {\"banks\": {...}, \"events\": N} (--ccel: {\"rtmr\": ...})",
              &json);
  parser.Positionals("FILE", 1, 1, &files);
  if (auto code = parser.Parse(args)) return *code;
  auto data = ReadInput(files[0]);
  if (!data.ok()) return Fail(data.status());
  auto log = tpm::ParseTpmEventLog(*data);
  if (!log.ok()) return Fail(log.status().WithContext(files[0]));
  const size_t events = log->events.size();
  if (ccel) {
    // CC MR index 0 is MRTD (measured by the TDX module, not replayable); 1..4 are RTMR0..3.
    auto replay = tdx::ReplayCcel(*data);
    if (!replay.ok()) return Fail(replay.status().WithContext(files[0]));
    Json rtmr = Json::object();
    for (size_t i = 0; i < replay->rtmr.size(); ++i) {
      rtmr[std::to_string(i)] = HexEncode(replay->rtmr[i]);
    }
    if (json) {
      PrintJson(Json{{"rtmr", rtmr}, {"events", events}});
    } else {
      for (const auto& [index, value] : rtmr.items()) {
        std::printf("RTMR%s: %s\n", index.c_str(), value.get<std::string>().c_str());
      }
      std::printf("events: %zu\n", events);
    }
    return kExitOk;
  }
  tcg::Registers regs = tcg::Replay(*log, tcg::ReplayMode::kTpm);
  Json banks = Json::object();
  for (const auto& [alg_id, registers] : regs) {
    Json b = Json::object();
    for (const auto& [index, value] : registers) b[std::to_string(index)] = HexEncode(value);
    banks[tcg::TpmAlgName(alg_id)] = b;
  }
  if (json) {
    PrintJson(Json{{"banks", banks}, {"events", events}});
  } else {
    for (const auto& [bank, registers] : banks.items()) {
      for (const auto& [index, value] : registers.items()) {
        std::printf("%s PCR %s: %s\n", bank.c_str(), index.c_str(),
                    value.get<std::string>().c_str());
      }
    }
    std::printf("events: %zu\n", events);
  }
  return kExitOk;
}

}  // namespace

int RunEventlog(Args args) {
  return RunVerbs(args, "eventlog", "Usage: cvmctl eventlog replay FILE [--ccel] [--json]\n",
                  {{"replay", EventlogReplay}});
}

}  // namespace cvm::cli
