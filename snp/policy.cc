#include "snp/policy.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <functional>
#include <map>
#include <string_view>
#include <utility>
#include <vector>

#include "common/encoding.h"
#include "common/file_util.h"

namespace cvm::snp {
namespace {

// " (line L, column C)", or "" when yaml-cpp has no position.
std::string Position(const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return "";
  return " (line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1) +
         ")";
}

// Policy errors carry the key path and the YAML position: "min_tcb.current.snp (line 4,
// column 7): ...". Everything below returns a Status; the only exceptions yaml-cpp throws
// (parse errors from YAML::Load) are caught in ParsePolicy, so none crosses the API.
Status Error(const YAML::Node& node, const std::string& key, const std::string& what) {
  return InvalidInput("snp policy: " + key + Position(node.Mark()) + ": " + what);
}

template <typename T>
Result<T> Number(const YAML::Node& n, const std::string& key, uint64_t max) {
  if (!n.IsScalar()) return Error(n, key, "expected a number");
  const std::string& s = n.Scalar();
  std::string_view digits = s;
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    digits.remove_prefix(2);
    base = 16;
  }
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    return Error(n, key, "expected a non-negative integer, got '" + s + "'");
  }
  if (v > max) return Error(n, key, std::to_string(v) + " is larger than " + std::to_string(max));
  return static_cast<T>(v);
}

Result<bool> Bool(const YAML::Node& n, const std::string& key) {
  bool b = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, b)) {
    return Error(n, key, "expected true or false");
  }
  return b;
}

Result<Bytes> Hex(const YAML::Node& n, const std::string& key, size_t size) {
  if (!n.IsScalar()) return Error(n, key, "expected a hex string");
  auto b = HexDecodeFixed(n.Scalar(), size);
  if (!b.ok()) {
    return Error(n, key, b.status().message() + " (expected " + std::to_string(size) + " bytes)");
  }
  return b;
}

Result<std::vector<Bytes>> HexList(const YAML::Node& n, const std::string& key, size_t size) {
  std::vector<Bytes> out;
  if (n.IsScalar()) {
    CVM_ASSIGN_OR_RETURN(Bytes b, Hex(n, key, size));
    out.push_back(std::move(b));
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) {
      CVM_ASSIGN_OR_RETURN(Bytes b, Hex(n[i], key + "[" + std::to_string(i) + "]", size));
      out.push_back(std::move(b));
    }
  } else {
    return Error(n, key, "expected a hex string or a list of them");
  }
  return out;
}

Result<std::pair<uint8_t, uint8_t>> MajorMinor(const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) return Error(n, key, "expected \"MAJOR.MINOR\"");
  const std::string& s = n.Scalar();
  auto part = [](std::string_view p, uint8_t* out) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (p.empty() || ec != std::errc() || end != p.data() + p.size() || v > 255) return false;
    *out = static_cast<uint8_t>(v);
    return true;
  };
  size_t dot = s.find('.');
  uint8_t major = 0, minor = 0;
  if (dot == std::string::npos || !part(std::string_view(s).substr(0, dot), &major) ||
      !part(std::string_view(s).substr(dot + 1), &minor)) {
    return Error(n, key, "expected \"MAJOR.MINOR\" with each part 0..255, got '" + s + "'");
  }
  return std::pair<uint8_t, uint8_t>{major, minor};
}

using Handler = std::function<Status(const YAML::Node&, const std::string&)>;

Status Walk(const YAML::Node& map, const std::string& prefix,
            const std::map<std::string, Handler>& keys) {
  if (!map.IsMap()) return Error(map, prefix.empty() ? "policy" : prefix, "expected a mapping");
  for (const auto& kv : map) {
    std::string name = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    std::string key = prefix;
    if (!key.empty()) key += ".";
    key += name;
    auto it = keys.find(name);
    if (it == keys.end()) {
      std::string known;
      for (const auto& [k, _] : keys) known += (known.empty() ? "" : ", ") + k;
      return Error(kv.first, key, "unknown key (known here: " + known + ")");
    }
    CVM_RETURN_IF_ERROR(it->second(kv.second, key));
  }
  return Status::Ok();
}

// A handler that stores what `parse` returns in `*out`.
template <typename T, typename F>
Handler Set(T* out, F parse) {
  return [out, parse](const YAML::Node& v, const std::string& k) -> Status {
    auto r = parse(v, k);
    if (!r.ok()) return r.status();
    *out = std::move(*r);
    return Status::Ok();
  };
}

template <typename T>
Handler SetNumber(std::optional<T>* out, uint64_t max) {
  return Set(out,
             [max](const YAML::Node& v, const std::string& k) { return Number<T>(v, k, max); });
}

Result<TcbParts> Tcb(const YAML::Node& n, const std::string& prefix) {
  TcbParts t;
  auto u8 = [](uint8_t* out) {
    return Set(
        out, [](const YAML::Node& v, const std::string& k) { return Number<uint8_t>(v, k, 255); });
  };
  CVM_RETURN_IF_ERROR(Walk(n, prefix,
                           {{"fmc", u8(&t.fmc)},
                            {"bootloader", u8(&t.bootloader)},
                            {"tee", u8(&t.tee)},
                            {"snp", u8(&t.snp)},
                            {"microcode", u8(&t.microcode)}}));
  return t;
}

Result<ValidationOptions> Parse(const YAML::Node& root) {
  ValidationOptions o;
  auto flag = [](auto* out) { return Set(out, Bool); };
  auto hex = [](std::optional<Bytes>* out, size_t size) {
    return Set(out, [size](const YAML::Node& v, const std::string& k) { return Hex(v, k, size); });
  };
  auto hex_list = [](std::vector<Bytes>* out, size_t size) {
    return Set(out,
               [size](const YAML::Node& v, const std::string& k) { return HexList(v, k, size); });
  };
  auto major_minor = [](auto* out) { return Set(out, MajorMinor); };
  auto tcb = [](std::optional<TcbParts>* out) { return Set(out, Tcb); };
  Status s =
      Walk(root, "",
           {
               {"tee",
                [](const YAML::Node& v, const std::string& k) {
                  if (!v.IsScalar() || v.Scalar() != "snp") {
                    return Error(v, k, "this is an SNP policy: tee must be snp");
                  }
                  return Status::Ok();
                }},
               {"measurements", hex_list(&o.measurements, 48)},
               {"host_data", hex(&o.host_data, 32)},
               {"report_data", hex(&o.report_data, 64)},
               {"family_id", hex(&o.family_id, 16)},
               {"image_id", hex(&o.image_id, 16)},
               {"id_key_digests", hex_list(&o.id_key_digests, 48)},
               {"author_key_digests", hex_list(&o.author_key_digests, 48)},
               {"min_guest_svn", SetNumber(&o.min_guest_svn, 0xffffffff)},
               {"min_tcb",
                [&](const YAML::Node& v, const std::string& k) {
                  return Walk(v, k,
                              {{"current", tcb(&o.min_current_tcb)},
                               {"reported", tcb(&o.min_reported_tcb)},
                               {"committed", tcb(&o.min_committed_tcb)},
                               {"launch", tcb(&o.min_launch_tcb)}});
                }},
               {"min_build", SetNumber(&o.min_build, 255)},
               {"min_version", major_minor(&o.min_version)},
               {"min_policy_abi", major_minor(&o.min_policy_abi)},
               {"vmpl", SetNumber(&o.vmpl, 3)},
               {"allow_debug", flag(&o.allow_debug)},
               {"allow_migrate_ma", flag(&o.allow_migrate_ma)},
               {"allow_masked_chip_id", flag(&o.allow_masked_chip_id)},
               {"guest_policy",
                [&](const YAML::Node& v, const std::string& k) {
                  return Walk(v, k,
                              {{"smt", flag(&o.policy_smt)},
                               {"single_socket", flag(&o.policy_single_socket)},
                               {"cxl_allow", flag(&o.policy_cxl_allow)},
                               {"mem_aes_256_xts", flag(&o.policy_mem_aes_256_xts)},
                               {"rapl_dis", flag(&o.policy_rapl_dis)},
                               {"ciphertext_hiding", flag(&o.policy_ciphertext_hiding)},
                               {"page_swap_disable", flag(&o.policy_page_swap_disable)}});
                }},
               {"platform_info",
                [&](const YAML::Node& v, const std::string& k) {
                  return Walk(
                      v, k,
                      {{"smt_enabled", flag(&o.platform_smt_enabled)},
                       {"tsme_enabled", flag(&o.platform_tsme_enabled)},
                       {"ecc_enabled", flag(&o.platform_ecc_enabled)},
                       {"rapl_disabled", flag(&o.platform_rapl_disabled)},
                       {"ciphertext_hiding_enabled", flag(&o.platform_ciphertext_hiding_enabled)},
                       {"alias_check_complete", flag(&o.platform_alias_check_complete)}});
                }},
               {"signing_keys",
                [&](const YAML::Node& v, const std::string& k) {
                  if (!v.IsSequence()) return Error(v, k, "expected a list of vcek, vlek");
                  for (const auto& item : v) {
                    std::string name = item.IsScalar() ? item.Scalar() : "";
                    if (name == "vcek") {
                      o.signing_keys.push_back(SigningKey::kVcek);
                    } else if (name == "vlek") {
                      o.signing_keys.push_back(SigningKey::kVlek);
                    } else {
                      return Error(item, k, "expected vcek or vlek, got '" + name + "'");
                    }
                  }
                  return Status::Ok();
                }},
           });
  if (!s.ok()) return s;
  return o;
}

}  // namespace

Result<ValidationOptions> ParsePolicy(std::string_view yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return InvalidInput("snp policy: not valid YAML" + Position(e.mark) + ": " + e.msg);
  }
  if (root.IsNull()) return ValidationOptions{};  // an empty policy checks only the defaults
  return Parse(root);
}

Result<ValidationOptions> LoadPolicyFile(const std::string& path) {
  CVM_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path, 1 << 20));
  return ParsePolicy(text).WithContext(path);
}

}  // namespace cvm::snp
