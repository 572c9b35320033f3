// Helpers shared by the policy and configuration parsers (yaml-cpp stays inside rp/*.cc).
// Every error names the file, line and column: "policy.yaml:4:3: default.tee: unknown TEE kind".
// Internal to rp/.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

namespace cvm::rp::yaml {

// Thrown inside a parser and turned into a Status at its entry point (never crosses the API).
struct Error {
  Status status;
};

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}
  const std::string& file() const { return file_; }

  // Parses `text`; a syntax error becomes "file:line:col: not valid YAML: ...".
  YAML::Node Load(const std::string& text) const;
  [[noreturn]] void Fail(const YAML::Node& node, const std::string& key,
                         const std::string& what) const;
  [[noreturn]] void FailAt(const YAML::Mark& mark, const std::string& what) const;

  using Handler = std::function<void(const YAML::Node& value, const std::string& key)>;
  // Calls the handler of every key of `map`; an unknown key or a non-mapping is an error.
  // `prefix` is the dotted path of `map` ("" at the top).
  void Walk(const YAML::Node& map, const std::string& prefix,
            const std::map<std::string, Handler>& handlers) const;

  std::string String(const YAML::Node& n, const std::string& key) const;
  bool Bool(const YAML::Node& n, const std::string& key) const;
  uint64_t Number(const YAML::Node& n, const std::string& key, uint64_t max) const;
  // Whole seconds: an integer, or an integer with a unit "s", "m", "h" ("5m").
  std::chrono::seconds Duration(const YAML::Node& n, const std::string& key) const;
  // Byte sizes: an integer, or with "K", "M" (binary multiples: "2M" = 2 MiB).
  uint64_t Size(const YAML::Node& n, const std::string& key, uint64_t max) const;
  Bytes Hex(const YAML::Node& n, const std::string& key, size_t size) const;
  // A scalar or a sequence of scalars.
  std::vector<Bytes> HexList(const YAML::Node& n, const std::string& key, size_t size) const;
  std::vector<std::string> StringList(const YAML::Node& n, const std::string& key) const;

 private:
  std::string file_;
};

}  // namespace cvm::rp::yaml
