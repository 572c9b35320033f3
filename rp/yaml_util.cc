#include "rp/yaml_util.h"

#include "common/encoding.h"

namespace cvm::rp::yaml {

YAML::Node Reader::Load(const std::string& text) const {
  try {
    return YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    FailAt(e.mark, "not valid YAML: " + e.msg);
  } catch (const YAML::Exception& e) {
    FailAt(e.mark, std::string("not valid YAML: ") + e.what());
  }
}

void Reader::FailAt(const YAML::Mark& mark, const std::string& what) const {
  std::string where = file_;
  if (!mark.is_null() && mark.line >= 0) {
    where += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  }
  throw Error{InvalidInput(where + ": " + what)};
}

void Reader::Fail(const YAML::Node& node, const std::string& key, const std::string& what) const {
  FailAt(node.Mark(), key.empty() ? what : key + ": " + what);
}

void Reader::Walk(const YAML::Node& map, const std::string& prefix,
                  const std::map<std::string, Handler>& handlers) const {
  if (!map.IsMap()) Fail(map, prefix, "expected a mapping");
  for (const auto& entry : map) {
    if (!entry.first.IsScalar()) Fail(entry.first, prefix, "keys must be plain strings");
    std::string name = entry.first.Scalar();
    std::string key = prefix.empty() ? name : prefix + "." + name;
    auto it = handlers.find(name);
    if (it == handlers.end()) Fail(entry.first, key, "unknown key");
    it->second(entry.second, key);
  }
}

std::string Reader::String(const YAML::Node& n, const std::string& key) const {
  if (!n.IsScalar()) Fail(n, key, "expected a string");
  return n.Scalar();
}

bool Reader::Bool(const YAML::Node& n, const std::string& key) const {
  bool b = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, b)) Fail(n, key, "expected true or false");
  return b;
}

uint64_t Reader::Number(const YAML::Node& n, const std::string& key, uint64_t max) const {
  if (!n.IsScalar()) Fail(n, key, "expected a number");
  const std::string& s = n.Scalar();
  uint64_t v = 0;
  bool ok = !s.empty() && s.size() <= 20;
  for (char c : s) {
    if (c < '0' || c > '9') {
      ok = false;
      break;
    }
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) {
      ok = false;
      break;
    }
    v = v * 10 + digit;
  }
  if (!ok) Fail(n, key, "expected a non-negative integer, got '" + s + "'");
  if (v > max) Fail(n, key, std::to_string(v) + " is larger than " + std::to_string(max));
  return v;
}

namespace {
// Splits "300s" into 300 and "s"; false when the number part is not decimal.
bool SplitUnit(const std::string& s, uint64_t* value, std::string* unit) {
  size_t i = 0;
  uint64_t v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    if (i >= 18) return false;
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
    ++i;
  }
  if (i == 0) return false;
  *value = v;
  *unit = s.substr(i);
  return true;
}
}  // namespace

std::chrono::seconds Reader::Duration(const YAML::Node& n, const std::string& key) const {
  if (!n.IsScalar()) Fail(n, key, "expected a duration such as 300, \"300s\" or \"5m\"");
  uint64_t v = 0;
  std::string unit;
  if (!SplitUnit(n.Scalar(), &v, &unit)) {
    Fail(n, key, "expected a duration such as 300, \"300s\" or \"5m\", got '" + n.Scalar() + "'");
  }
  uint64_t mult = 0;
  if (unit.empty() || unit == "s") {
    mult = 1;
  } else if (unit == "m") {
    mult = 60;
  } else if (unit == "h") {
    mult = 3600;
  } else {
    Fail(n, key, "unknown duration unit '" + unit + "' (use s, m or h)");
  }
  constexpr uint64_t kMaxSeconds = 366ull * 24 * 3600;
  if (v > kMaxSeconds / mult) Fail(n, key, "duration longer than a year");
  return std::chrono::seconds(static_cast<int64_t>(v * mult));
}

uint64_t Reader::Size(const YAML::Node& n, const std::string& key, uint64_t max) const {
  if (!n.IsScalar()) Fail(n, key, "expected a size such as 65536 or \"2M\"");
  uint64_t v = 0;
  std::string unit;
  if (!SplitUnit(n.Scalar(), &v, &unit)) {
    Fail(n, key, "expected a size such as 65536 or \"2M\", got '" + n.Scalar() + "'");
  }
  uint64_t mult = 0;
  if (unit.empty()) {
    mult = 1;
  } else if (unit == "K") {
    mult = 1024;
  } else if (unit == "M") {
    mult = 1024 * 1024;
  } else {
    Fail(n, key, "unknown size unit '" + unit + "' (use K or M)");
  }
  if (v > max / mult) Fail(n, key, "larger than " + std::to_string(max) + " bytes");
  return v * mult;
}

Bytes Reader::Hex(const YAML::Node& n, const std::string& key, size_t size) const {
  if (!n.IsScalar()) Fail(n, key, "expected a hex string");
  auto b = HexDecodeFixed(n.Scalar(), size);
  if (!b.ok()) {
    Fail(n, key, b.status().message() + " (expected " + std::to_string(size) + " bytes of hex)");
  }
  return std::move(b).value();
}

std::vector<Bytes> Reader::HexList(const YAML::Node& n, const std::string& key, size_t size) const {
  std::vector<Bytes> out;
  if (n.IsScalar()) {
    out.push_back(Hex(n, key, size));
  } else if (n.IsSequence()) {
    for (const auto& item : n) out.push_back(Hex(item, key, size));
    if (out.empty()) Fail(n, key, "an empty list accepts nothing; remove the key instead");
  } else {
    Fail(n, key, "expected a hex string or a list of them");
  }
  return out;
}

std::vector<std::string> Reader::StringList(const YAML::Node& n, const std::string& key) const {
  std::vector<std::string> out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
  } else if (n.IsSequence()) {
    for (const auto& item : n) out.push_back(String(item, key));
  } else {
    Fail(n, key, "expected a string or a list of strings");
  }
  return out;
}

}  // namespace cvm::rp::yaml
