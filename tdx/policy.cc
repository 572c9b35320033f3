#include "tdx/policy.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "common/encoding.h"
#include "common/file_util.h"

namespace cvm::tdx {
namespace {

// " (line L, column C)", or "" when yaml-cpp has no position.
std::string Position(const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return "";
  return " (line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1) +
         ")";
}

// Policy errors carry the key and the YAML position, as snp/policy.cc's do:
// "tdx policy: mrtd (line 2, column 9): ...". Only YAML::Load throws (parse errors); ParsePolicy
// catches that, so no exception crosses the API.
Status Error(const YAML::Node& n, const std::string& key, const std::string& what) {
  return InvalidInput("tdx policy: " + key + Position(n.Mark()) + ": " + what);
}

Result<std::string> Scalar(const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) return Error(n, key, "must be a scalar");
  return n.Scalar();
}

Result<Bytes> HexValue(const YAML::Node& n, const std::string& key, size_t size) {
  CVM_ASSIGN_OR_RETURN(std::string s, Scalar(n, key));
  auto b = HexDecodeFixed(s, size);
  if (!b.ok()) return Error(n, key, b.status().message());
  return b;
}

Result<uint64_t> Number(const YAML::Node& n, const std::string& key, uint64_t max) {
  CVM_ASSIGN_OR_RETURN(std::string s, Scalar(n, key));
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, 0);  // NOLINT(google-runtime-int)
  if (s.empty() || s[0] == '-' || errno != 0 || end == nullptr || *end != '\0' || v > max) {
    return Error(n, key, "is not a number in 0.." + std::to_string(max));
  }
  return static_cast<uint64_t>(v);
}

Status Apply(const YAML::Node& key_node, const std::string& key, const YAML::Node& n,
             ValidateOptions& o) {
  static const char* kRtmr[] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};
  for (size_t i = 0; i < 4; ++i) {
    if (key == kRtmr[i]) {
      CVM_ASSIGN_OR_RETURN(o.rtmr[i], HexValue(n, key, 48));
      return Status::Ok();
    }
  }
  const std::pair<const char*, std::optional<Bytes>*> measurements[] = {
      {"mrtd", &o.mrtd},
      {"mrconfigid", &o.mrconfigid},
      {"mrowner", &o.mrowner},
      {"mrownerconfig", &o.mrownerconfig},
      {"mrseam", &o.mrseam}};
  for (const auto& [name, field] : measurements) {
    if (key == name) {
      CVM_ASSIGN_OR_RETURN(*field, HexValue(n, key, 48));
      return Status::Ok();
    }
  }
  if (key == "report_data") {
    CVM_ASSIGN_OR_RETURN(o.report_data, HexValue(n, key, 64));
  } else if (key == "min_tee_tcb_svn") {
    CVM_ASSIGN_OR_RETURN(o.min_tee_tcb_svn, HexValue(n, key, 16));
  } else if (key == "allow_debug") {
    CVM_ASSIGN_OR_RETURN(std::string s, Scalar(n, key));
    if (s != "true" && s != "false") return Error(n, key, "must be true or false");
    o.allow_debug = s == "true";
  } else if (key == "td_attributes") {
    CVM_ASSIGN_OR_RETURN(o.td_attributes, Number(n, key, UINT64_MAX));
  } else if (key == "xfam") {
    CVM_ASSIGN_OR_RETURN(o.xfam, Number(n, key, UINT64_MAX));
  } else if (key == "min_qe_svn") {
    CVM_ASSIGN_OR_RETURN(uint64_t v, Number(n, key, 65535));
    o.min_qe_svn = static_cast<uint16_t>(v);
  } else if (key == "min_pce_svn") {
    CVM_ASSIGN_OR_RETURN(uint64_t v, Number(n, key, 65535));
    o.min_pce_svn = static_cast<uint16_t>(v);
  } else if (key == "accepted_tcb_statuses") {
    if (!n.IsSequence() || n.size() == 0) {
      return Error(n, key, "must be a non-empty list");
    }
    for (const auto& item : n) {
      CVM_ASSIGN_OR_RETURN(std::string s, Scalar(item, key));
      auto st = ParseTcbStatus(s);
      if (!st.ok()) return Error(item, key, st.status().message());
      o.accepted_tcb_statuses.push_back(*st);
    }
  } else {
    return Error(key_node, key, "unknown key");
  }
  return Status::Ok();
}

}  // namespace

Result<ValidateOptions> ParsePolicy(std::string_view yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return InvalidInput("tdx policy: not valid YAML" + Position(e.mark) + ": " + e.msg);
  }
  ValidateOptions o;
  if (root.IsNull()) return o;
  if (!root.IsMap()) return Error(root, "policy", "the document must be a mapping");
  const YAML::Node& top = root;
  YAML::Node map = root;
  if (top["tdx"]) {
    map = top["tdx"];
    if (!map.IsMap()) return Error(map, "tdx", "must be a mapping");
  }
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) return Error(kv.first, "policy", "a key must be a scalar");
    const std::string& key = kv.first.Scalar();
    // Other TEEs' sections may share a top-level policy file.
    if (key == "snp" || key == "tpm" || key == "azure") continue;
    CVM_RETURN_IF_ERROR(Apply(kv.first, key, kv.second, o));
  }
  return o;
}

Result<ValidateOptions> LoadPolicyFile(const std::string& path) {
  CVM_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path, 1 << 20));
  return ParsePolicy(text).WithContext(path);
}

}  // namespace cvm::tdx
