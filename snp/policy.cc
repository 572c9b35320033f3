#include "snp/policy.h"

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>

#include "common/encoding.h"
#include "common/file_util.h"

namespace cvm::snp {
namespace {

// Policy errors carry the key path and YAML line: "min_tcb.current.snp (line 4): ...".
struct PolicyError {
  Status status;
};

[[noreturn]] void Throw(const YAML::Node& node, const std::string& key, const std::string& what) {
  std::string where = key;
  if (node.Mark().line >= 0) where += " (line " + std::to_string(node.Mark().line + 1) + ")";
  throw PolicyError{InvalidInput("snp policy: " + where + ": " + what)};
}

template <typename T>
T Number(const YAML::Node& n, const std::string& key, uint64_t max) {
  if (!n.IsScalar()) Throw(n, key, "expected a number");
  uint64_t v = 0;
  try {
    std::string s = n.Scalar();
    if (s.empty() || s[0] == '-') throw std::invalid_argument("negative");
    size_t used = 0;
    v = std::stoull(s, &used, 0);  // decimal or 0x hex
    if (used != s.size()) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    Throw(n, key, "expected a non-negative integer, got '" + n.Scalar() + "'");
  }
  if (v > max) Throw(n, key, std::to_string(v) + " is larger than " + std::to_string(max));
  return static_cast<T>(v);
}

bool Bool(const YAML::Node& n, const std::string& key) {
  bool b = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, b)) Throw(n, key, "expected true or false");
  return b;
}

Bytes Hex(const YAML::Node& n, const std::string& key, size_t size) {
  if (!n.IsScalar()) Throw(n, key, "expected a hex string");
  auto b = HexDecodeFixed(n.Scalar(), size);
  if (!b.ok())
    Throw(n, key, b.status().message() + " (expected " + std::to_string(size) + " bytes)");
  return *b;
}

std::vector<Bytes> HexList(const YAML::Node& n, const std::string& key, size_t size) {
  std::vector<Bytes> out;
  if (n.IsScalar()) {
    out.push_back(Hex(n, key, size));
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i)
      out.push_back(Hex(n[i], key + "[" + std::to_string(i) + "]", size));
  } else {
    Throw(n, key, "expected a hex string or a list of them");
  }
  return out;
}

std::pair<uint8_t, uint8_t> MajorMinor(const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) Throw(n, key, "expected \"MAJOR.MINOR\"");
  const std::string& s = n.Scalar();
  size_t dot = s.find('.');
  try {
    if (dot == std::string::npos) throw std::invalid_argument("no dot");
    size_t a = 0, b = 0;
    unsigned long major = std::stoul(s.substr(0, dot), &a);   // NOLINT(google-runtime-int)
    unsigned long minor = std::stoul(s.substr(dot + 1), &b);  // NOLINT(google-runtime-int)
    if (a != dot || b != s.size() - dot - 1 || major > 255 || minor > 255) {
      throw std::invalid_argument("range");
    }
    return {static_cast<uint8_t>(major), static_cast<uint8_t>(minor)};
  } catch (const std::exception&) {
    Throw(n, key, "expected \"MAJOR.MINOR\" with each part 0..255, got '" + s + "'");
  }
}

using Handler = std::function<void(const YAML::Node&, const std::string&)>;

void Walk(const YAML::Node& map, const std::string& prefix,
          const std::map<std::string, Handler>& keys) {
  if (!map.IsMap()) Throw(map, prefix.empty() ? "policy" : prefix, "expected a mapping");
  for (const auto& kv : map) {
    std::string name = kv.first.Scalar();
    std::string key = prefix;
    if (!key.empty()) key += ".";
    key += name;
    auto it = keys.find(name);
    if (it == keys.end()) {
      std::string known;
      for (const auto& [k, _] : keys) known += (known.empty() ? "" : ", ") + k;
      Throw(kv.first, key, "unknown key (known here: " + known + ")");
    }
    it->second(kv.second, key);
  }
}

TcbParts Tcb(const YAML::Node& n, const std::string& prefix) {
  TcbParts t;
  auto u8 = [](uint8_t* out) {
    return [out](const YAML::Node& v, const std::string& k) { *out = Number<uint8_t>(v, k, 255); };
  };
  Walk(n, prefix,
       {{"fmc", u8(&t.fmc)},
        {"bootloader", u8(&t.bootloader)},
        {"tee", u8(&t.tee)},
        {"snp", u8(&t.snp)},
        {"microcode", u8(&t.microcode)}});
  return t;
}

ValidationOptions Parse(const YAML::Node& root) {
  ValidationOptions o;
  auto flag = [](std::optional<bool>* out) {
    return [out](const YAML::Node& v, const std::string& k) { *out = Bool(v, k); };
  };
  auto hex = [](std::optional<Bytes>* out, size_t size) {
    return [out, size](const YAML::Node& v, const std::string& k) { *out = Hex(v, k, size); };
  };
  Walk(root, "",
       {
           {"tee",
            [](const YAML::Node& v, const std::string& k) {
              if (!v.IsScalar() || v.Scalar() != "snp")
                Throw(v, k, "this is an SNP policy: tee must be snp");
            }},
           {"measurements",
            [&](const YAML::Node& v, const std::string& k) { o.measurements = HexList(v, k, 48); }},
           {"host_data", hex(&o.host_data, 32)},
           {"report_data", hex(&o.report_data, 64)},
           {"family_id", hex(&o.family_id, 16)},
           {"image_id", hex(&o.image_id, 16)},
           {"id_key_digests", [&](const YAML::Node& v,
                                  const std::string& k) { o.id_key_digests = HexList(v, k, 48); }},
           {"author_key_digests",
            [&](const YAML::Node& v, const std::string& k) {
              o.author_key_digests = HexList(v, k, 48);
            }},
           {"min_guest_svn",
            [&](const YAML::Node& v, const std::string& k) {
              o.min_guest_svn = Number<uint32_t>(v, k, 0xffffffff);
            }},
           {"min_tcb",
            [&](const YAML::Node& v, const std::string& k) {
              Walk(v, k,
                   {{"current", [&](const YAML::Node& t,
                                    const std::string& tk) { o.min_current_tcb = Tcb(t, tk); }},
                    {"reported", [&](const YAML::Node& t,
                                     const std::string& tk) { o.min_reported_tcb = Tcb(t, tk); }},
                    {"committed", [&](const YAML::Node& t,
                                      const std::string& tk) { o.min_committed_tcb = Tcb(t, tk); }},
                    {"launch", [&](const YAML::Node& t, const std::string& tk) {
                       o.min_launch_tcb = Tcb(t, tk);
                     }}});
            }},
           {"min_build", [&](const YAML::Node& v,
                             const std::string& k) { o.min_build = Number<uint8_t>(v, k, 255); }},
           {"min_version",
            [&](const YAML::Node& v, const std::string& k) { o.min_version = MajorMinor(v, k); }},
           {"min_policy_abi", [&](const YAML::Node& v,
                                  const std::string& k) { o.min_policy_abi = MajorMinor(v, k); }},
           {"vmpl",
            [&](const YAML::Node& v, const std::string& k) { o.vmpl = Number<uint32_t>(v, k, 3); }},
           {"allow_debug",
            [&](const YAML::Node& v, const std::string& k) { o.allow_debug = Bool(v, k); }},
           {"allow_migrate_ma",
            [&](const YAML::Node& v, const std::string& k) { o.allow_migrate_ma = Bool(v, k); }},
           {"allow_masked_chip_id", flag(&o.allow_masked_chip_id)},
           {"guest_policy",
            [&](const YAML::Node& v, const std::string& k) {
              Walk(v, k,
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
              Walk(v, k,
                   {{"smt_enabled", flag(&o.platform_smt_enabled)},
                    {"tsme_enabled", flag(&o.platform_tsme_enabled)},
                    {"ecc_enabled", flag(&o.platform_ecc_enabled)},
                    {"rapl_disabled", flag(&o.platform_rapl_disabled)},
                    {"ciphertext_hiding_enabled", flag(&o.platform_ciphertext_hiding_enabled)},
                    {"alias_check_complete", flag(&o.platform_alias_check_complete)}});
            }},
           {"signing_keys",
            [&](const YAML::Node& v, const std::string& k) {
              if (!v.IsSequence()) Throw(v, k, "expected a list of vcek, vlek");
              for (const auto& item : v) {
                std::string s = item.IsScalar() ? item.Scalar() : "";
                if (s == "vcek") {
                  o.signing_keys.push_back(SigningKey::kVcek);
                } else if (s == "vlek") {
                  o.signing_keys.push_back(SigningKey::kVlek);
                } else {
                  Throw(item, k, "expected vcek or vlek, got '" + s + "'");
                }
              }
            }},
       });
  return o;
}

}  // namespace

Result<ValidationOptions> ParsePolicy(std::string_view yaml) {
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (root.IsNull()) return ValidationOptions{};  // an empty policy checks only the defaults
    return Parse(root);
  } catch (const PolicyError& e) {
    return e.status;
  } catch (const YAML::Exception& e) {
    return InvalidInput(std::string("snp policy: not valid YAML: ") + e.what());
  }
}

Result<ValidationOptions> LoadPolicyFile(const std::string& path) {
  CVM_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path, 1 << 20));
  return ParsePolicy(text).WithContext(path);
}

}  // namespace cvm::snp
