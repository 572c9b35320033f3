#include "tpm/pcr.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/tcg_eventlog.h"

namespace cvm::tpm {
namespace {

using tcg::kAlgSha1;
using tcg::kAlgSha256;
using tcg::kAlgSha384;
using tcg::kAlgSha512;

Result<uint32_t> ParseIndex(std::string_view text) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v > kMaxPcr) {
    return InvalidInput("PCR index '" + std::string(text) + "' is not a number from 0 to " +
                        std::to_string(kMaxPcr));
  }
  return v;
}

Status ParseIndices(std::string_view list, std::vector<uint32_t>* out) {
  if (list.empty()) return InvalidInput("empty PCR list");
  while (true) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    size_t dash = item.find('-');
    CVM_ASSIGN_OR_RETURN(uint32_t first, ParseIndex(item.substr(0, dash)));
    uint32_t last = first;
    if (dash != std::string_view::npos) {
      CVM_ASSIGN_OR_RETURN(last, ParseIndex(item.substr(dash + 1)));
      if (last < first) return InvalidInput("PCR range '" + std::string(item) + "' is reversed");
    }
    for (uint32_t i = first; i <= last; ++i) out->push_back(i);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
  return Status::Ok();
}

}  // namespace

bool PcrSelection::empty() const {
  return std::all_of(banks.begin(), banks.end(), [](const PcrBank& b) { return b.pcrs.empty(); });
}

uint16_t TpmAlgId(DigestAlg alg) {
  switch (alg) {
    case DigestAlg::kSha1:
      return kAlgSha1;
    case DigestAlg::kSha256:
      return kAlgSha256;
    case DigestAlg::kSha384:
      return kAlgSha384;
    case DigestAlg::kSha512:
      return kAlgSha512;
  }
  return 0;
}

Result<DigestAlg> DigestAlgFromTpm(uint16_t alg_id) {
  if (auto alg = tcg::DigestAlgFromTpm(alg_id)) return *alg;
  return Unsupported("hash algorithm " + tcg::TpmAlgName(alg_id) + " is not supported");
}

Result<DigestAlg> ParseBankName(std::string_view name) {
  for (DigestAlg alg :
       {DigestAlg::kSha1, DigestAlg::kSha256, DigestAlg::kSha384, DigestAlg::kSha512}) {
    if (name == DigestName(alg)) return alg;
  }
  return InvalidInput("unknown PCR bank '" + std::string(name) +
                      "' (expected sha1, sha256, sha384 or sha512)");
}

Result<PcrSelection> ParsePcrSelection(std::string_view text) {
  PcrSelection sel;
  std::string_view rest = text;
  while (true) {
    size_t plus = rest.find('+');
    std::string_view part = rest.substr(0, plus);
    size_t colon = part.find(':');
    if (colon == std::string_view::npos) {
      return InvalidInput("PCR selection '" + std::string(text) +
                          "': expected BANK:LIST, e.g. sha256:0,1,7");
    }
    PcrBank bank;
    auto alg = ParseBankName(part.substr(0, colon));
    if (!alg.ok()) return alg.status().WithContext("PCR selection");
    bank.alg = *alg;
    for (const PcrBank& b : sel.banks) {
      if (b.alg == bank.alg) {
        return InvalidInput("PCR selection names bank " + std::string(DigestName(b.alg)) +
                            " twice");
      }
    }
    Status st = ParseIndices(part.substr(colon + 1), &bank.pcrs);
    if (!st.ok()) return st.WithContext("PCR selection '" + std::string(text) + "'");
    sel.banks.push_back(std::move(bank));
    if (plus == std::string_view::npos) break;
    rest.remove_prefix(plus + 1);
  }
  return sel;
}

std::string FormatPcrSelection(const PcrSelection& selection) {
  std::string out;
  for (const PcrBank& bank : selection.banks) {
    if (!out.empty()) out += '+';
    out += DigestName(bank.alg);
    out += ':';
    for (size_t i = 0; i < bank.pcrs.size(); ++i) {
      if (i) out += ',';
      out += std::to_string(bank.pcrs[i]);
    }
  }
  return out;
}

PcrSelection DefaultPcrSelection() {
  PcrBank bank;
  for (uint32_t i = 0; i < 16; ++i) bank.pcrs.push_back(i);
  return PcrSelection{{bank}};
}

Result<Bytes> PcrCompositeDigest(DigestAlg alg, const PcrSelection& selection,
                                 const PcrValues& values) {
  Hasher h(alg);
  for (const PcrBank& bank : selection.banks) {
    auto b = values.find(bank.alg);
    for (uint32_t index : bank.pcrs) {
      std::string name = std::string(DigestName(bank.alg)) + ":" + std::to_string(index);
      if (b == values.end() || !b->second.count(index)) {
        return InvalidInput("PCR " + name + " is selected but its value is missing");
      }
      const Bytes& v = b->second.at(index);
      if (v.size() != DigestSize(bank.alg)) {
        return InvalidInput("PCR " + name + " has " + std::to_string(v.size()) +
                            " bytes, expected " + std::to_string(DigestSize(bank.alg)));
      }
      h.Update(v);
    }
  }
  return h.Finish();
}

std::string PcrValuesToJson(const PcrValues& values, int indent) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& [alg, bank] : values) {
    nlohmann::ordered_json b = nlohmann::ordered_json::object();
    for (const auto& [index, digest] : bank) b[std::to_string(index)] = HexEncode(digest);
    out[std::string(DigestName(alg))] = std::move(b);
  }
  return out.dump(indent) + "\n";
}

Result<PcrValues> PcrValuesFromJson(std::string_view json) {
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidInput("PCR values: not a JSON object {\"sha256\": {\"0\": hex, ...}}");
  }
  PcrValues out;
  for (const auto& [bank_name, bank] : doc.items()) {
    auto alg = ParseBankName(bank_name);
    if (!alg.ok()) return alg.status().WithContext("PCR values");
    if (!bank.is_object())
      return InvalidInput("PCR values: bank " + bank_name + " is not an object");
    for (const auto& [index_text, hex] : bank.items()) {
      auto index = ParseIndex(index_text);
      if (!index.ok()) return index.status().WithContext("PCR values: " + bank_name);
      if (!hex.is_string()) {
        return InvalidInput("PCR values: " + std::string(bank_name).append(":").append(index_text) +
                            " is not a string");
      }
      auto digest = HexDecodeFixed(hex.get<std::string>(), DigestSize(*alg));
      if (!digest.ok()) {
        return digest.status().WithContext("PCR values: " +
                                           std::string(bank_name).append(":").append(index_text));
      }
      out[*alg][*index] = std::move(*digest);
    }
  }
  return out;
}

bool SelectionContains(const PcrSelection& selection, DigestAlg alg, uint32_t index) {
  for (const PcrBank& bank : selection.banks) {
    if (bank.alg != alg) continue;
    for (uint32_t p : bank.pcrs) {
      if (p == index) return true;
    }
  }
  return false;
}

std::vector<std::string> PcrsOutsideSelection(const PcrSelection& selection,
                                              const PcrValues& values) {
  std::vector<std::string> out;
  for (const auto& [alg, bank] : values) {
    for (const auto& [index, value] : bank) {
      if (!SelectionContains(selection, alg, index)) {
        out.push_back(std::string(DigestName(alg)) + ":" + std::to_string(index));
      }
    }
  }
  return out;
}

}  // namespace cvm::tpm
