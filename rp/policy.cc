#include "rp/policy.h"

#include <algorithm>
#include <cctype>

#include "common/encoding.h"
#include "common/file_util.h"
#include "evidence/kbs.h"
#include "rp/resources.h"
#include "rp/yaml_util.h"

namespace cvm::rp {
namespace {

using evidence::TeeKind;

bool IsSnpKind(TeeKind k) { return k == TeeKind::kSnp || k == TeeKind::kAzSnpVtpm; }
bool IsTdxKind(TeeKind k) { return k == TeeKind::kTdx || k == TeeKind::kAzTdxVtpm; }

constexpr std::string_view kTcbComponents[] = {"bootloader", "tee", "snp", "microcode", "fmc"};

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    out.emplace_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

size_t Wildcards(const std::string& pattern) {
  size_t n = 0;
  for (const auto& seg : SplitPath(pattern)) n += seg == "*" ? 1 : 0;
  return n;
}

bool Matches(const std::string& pattern, std::string_view path) {
  auto p = SplitPath(pattern);
  auto s = SplitPath(path);
  if (p.size() != s.size()) return false;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] != "*" && p[i] != s[i]) return false;
  }
  return true;
}

std::string Upper(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

GpuRule ParseGpuRule(const yaml::Reader& r, const YAML::Node& node, const std::string& prefix) {
  GpuRule g;
  auto version = [&](const YAML::Node& v, const std::string& k, int base) {
    std::string s = r.String(v, k);
    auto ok = CompareVersions(s, s, base);
    if (!ok.ok()) r.Fail(v, k, ok.status().message());
    return s;
  };
  r.Walk(node, prefix,
         {{"count",
           [&](const YAML::Node& v, const std::string& k) {
             g.count = r.Number(v, k, 64);
             if (*g.count == 0) r.Fail(v, k, "must be at least 1 (leave gpu out for no GPUs)");
           }},
          {"architectures",
           [&](const YAML::Node& v, const std::string& k) {
             for (const auto& a : r.StringList(v, k)) {
               std::string name = Upper(a);
               if (name != "HOPPER" && name != "BLACKWELL") {
                 r.Fail(v, k, "unknown GPU architecture '" + a + "' (hopper, blackwell)");
               }
               g.architectures.insert(name);
             }
             if (g.architectures.empty()) r.Fail(v, k, "an empty list accepts nothing");
           }},
          {"min_driver_version",
           [&](const YAML::Node& v, const std::string& k) {
             g.min_driver_version = version(v, k, 10);
           }},
          {"min_vbios_version",
           [&](const YAML::Node& v, const std::string& k) {
             g.min_vbios_version = Upper(version(v, k, 16));
           }},
          {"cc_modes",
           [&](const YAML::Node& v, const std::string& k) {
             for (const auto& m : r.StringList(v, k)) {
               std::string name = Upper(m);
               if (name != "SPT" && name != "MPT" && name != "PPCIE") {
                 r.Fail(v, k, "unknown CC mode '" + m + "' (spt, mpt, ppcie)");
               }
               g.cc_modes.insert(name);
             }
             if (g.cc_modes.empty()) r.Fail(v, k, "an empty list accepts nothing");
           }},
          {"require_rim_match", [&](const YAML::Node& v, const std::string& k) {
             g.require_rim_match = r.Bool(v, k);
           }}});
  return g;
}

PolicyRule ParseRule(const yaml::Reader& r, const YAML::Node& node, const std::string& name,
                     const std::string& prefix) {
  PolicyRule rule;
  rule.name = name;
  bool have_tee = false;
  r.Walk(
      node, prefix,
      {{"tee",
        [&](const YAML::Node& v, const std::string& k) {
          for (const auto& t : r.StringList(v, k)) {
            auto kind = evidence::ParseTeeKind(t);
            if (!kind.ok()) r.Fail(v, k, kind.status().message());
            rule.tee.insert(*kind);
          }
          if (rule.tee.empty()) r.Fail(v, k, "an empty list accepts nothing");
          have_tee = true;
        }},
       {"snp_measurements",
        [&](const YAML::Node& v, const std::string& k) {
          rule.snp_measurements = r.HexList(v, k, 48);
        }},
       {"snp_id_key_digests",
        [&](const YAML::Node& v, const std::string& k) {
          rule.snp_id_key_digests = r.HexList(v, k, 48);
        }},
       {"snp_author_key_digests",
        [&](const YAML::Node& v, const std::string& k) {
          rule.snp_author_key_digests = r.HexList(v, k, 48);
        }},
       {"mrtd",
        [&](const YAML::Node& v, const std::string& k) { rule.mrtd = r.HexList(v, k, 48); }},
       {"host_data",
        [&](const YAML::Node& v, const std::string& k) { rule.host_data = r.HexList(v, k, 32); }},
       {"mrconfigid",
        [&](const YAML::Node& v, const std::string& k) { rule.mrconfigid = r.HexList(v, k, 48); }},
       {"rtmrs",
        [&](const YAML::Node& v, const std::string& k) {
          if (!v.IsMap()) r.Fail(v, k, "expected a mapping of RTMR index (0-3) to values");
          for (const auto& e : v) {
            auto index = static_cast<uint32_t>(r.Number(e.first, k, 3));
            rule.rtmrs[index] = r.HexList(e.second, k + "." + e.first.Scalar(), 48);
          }
        }},
       {"pcrs",
        [&](const YAML::Node& v, const std::string& k) {
          if (!v.IsMap()) r.Fail(v, k, "expected a mapping of bank (sha1, sha256, ...) to PCRs");
          for (const auto& bank : v) {
            std::string bank_name = r.String(bank.first, k);
            DigestAlg alg = DigestAlg::kSha256;
            if (bank_name == "sha1") {
              alg = DigestAlg::kSha1;
            } else if (bank_name == "sha256") {
              alg = DigestAlg::kSha256;
            } else if (bank_name == "sha384") {
              alg = DigestAlg::kSha384;
            } else if (bank_name == "sha512") {
              alg = DigestAlg::kSha512;
            } else {
              r.Fail(bank.first, k, "unknown PCR bank '" + bank_name + "'");
            }
            std::string bk = k + "." + bank_name;
            if (!bank.second.IsMap()) r.Fail(bank.second, bk, "expected PCR index -> values");
            for (const auto& pcr : bank.second) {
              auto index = static_cast<uint32_t>(r.Number(pcr.first, bk, 23));
              rule.pcrs[alg][index] =
                  r.HexList(pcr.second, bk + "." + pcr.first.Scalar(), DigestSize(alg));
            }
          }
        }},
       {"min_tcb",
        [&](const YAML::Node& v, const std::string& k) {
          if (!v.IsMap()) r.Fail(v, k, "expected a mapping of TCB component to minimum");
          for (const auto& e : v) {
            std::string comp = r.String(e.first, k);
            if (std::find(std::begin(kTcbComponents), std::end(kTcbComponents), comp) ==
                std::end(kTcbComponents)) {
              r.Fail(e.first, k,
                     "unknown TCB component '" + comp + "' (bootloader, tee, snp, microcode, fmc)");
            }
            rule.min_tcb[comp] = r.Number(e.second, k + "." + comp, 255);
          }
        }},
       {"min_guest_svn",
        [&](const YAML::Node& v, const std::string& k) {
          rule.min_guest_svn = static_cast<uint32_t>(r.Number(v, k, UINT32_MAX));
        }},
       {"tcb_statuses",
        [&](const YAML::Node& v, const std::string& k) {
          auto list = r.StringList(v, k);
          rule.tcb_statuses = std::set<std::string>(list.begin(), list.end());
        }},
       {"advisories",
        [&](const YAML::Node& v, const std::string& k) {
          auto list = r.StringList(v, k);
          rule.advisories = std::set<std::string>(list.begin(), list.end());
        }},
       {"allow_debug",
        [&](const YAML::Node& v, const std::string& k) { rule.allow_debug = r.Bool(v, k); }},
       {"allow_simulated",
        [&](const YAML::Node& v, const std::string& k) { rule.allow_simulated = r.Bool(v, k); }},
       {"max_evidence_age",
        [&](const YAML::Node& v, const std::string& k) {
          rule.max_evidence_age = r.Duration(v, k);
          if (rule.max_evidence_age->count() == 0) r.Fail(v, k, "must be at least 1s");
        }},
       {"gpu",
        [&](const YAML::Node& v, const std::string& k) { rule.gpu = ParseGpuRule(r, v, k); }}});
  if (!have_tee) r.Fail(node, prefix, "missing required key 'tee'");
  return rule;
}

bool ValidPattern(const std::string& pattern) {
  auto segments = SplitPath(pattern);
  if (segments.size() != 3) return false;
  return std::all_of(segments.begin(), segments.end(),
                     [](const std::string& s) { return s == "*" || ValidResourceSegment(s); });
}

bool Contains(const std::vector<Bytes>& accepted, const Bytes& value) {
  return std::find(accepted.begin(), accepted.end(), value) != accepted.end();
}

std::string Shown(const Bytes& b) { return b.empty() ? "(none)" : HexEncode(b); }

}  // namespace

const PolicyRule* Policy::RuleFor(std::string_view path) const {
  const PolicyRule* best = nullptr;
  size_t best_wild = SIZE_MAX;
  for (const auto& rule : resources) {
    if (!Matches(rule.name, path)) continue;
    size_t wild = Wildcards(rule.name);
    if (wild < best_wild) {
      best = &rule;
      best_wild = wild;
    }
  }
  if (best != nullptr) return best;
  return default_rule ? &*default_rule : nullptr;
}

std::vector<const PolicyRule*> Policy::Rules() const {
  std::vector<const PolicyRule*> out;
  if (default_rule) out.push_back(&*default_rule);
  for (const auto& r : resources) out.push_back(&r);
  return out;
}

Result<Policy> ParsePolicy(std::string_view text, const std::string& file) {
  yaml::Reader r(file);
  Policy policy;
  policy.file = file;
  policy.digest = "sha256:" + HexEncode(Sha256(AsBytes(text)));
  try {
    YAML::Node root = r.Load(std::string(text));
    if (!root.IsMap())
      r.FailAt(root.Mark(), "a policy is a mapping with 'default' and/or 'resources'");
    r.Walk(root, "",
           {{"version",
             [&](const YAML::Node& v, const std::string& k) {
               if (r.Number(v, k, 1000) != 1) r.Fail(v, k, "only version 1 is understood");
             }},
            {"default",
             [&](const YAML::Node& v, const std::string& k) {
               policy.default_rule = ParseRule(r, v, "default", k);
             }},
            {"resources", [&](const YAML::Node& v, const std::string& k) {
               if (!v.IsMap()) r.Fail(v, k, "expected a mapping of \"repo/type/tag\" to rules");
               for (const auto& e : v) {
                 std::string pattern = r.String(e.first, k);
                 if (!ValidPattern(pattern)) {
                   r.Fail(e.first, k,
                          "'" + pattern +
                              "' is not a resource path repo/type/tag (each segment [A-Za-z0-9_-]"
                              " then [A-Za-z0-9_.-]*, or *)");
                 }
                 for (const auto& other : policy.resources) {
                   if (other.name == pattern)
                     r.Fail(e.first, k, "duplicate rule '" + pattern + "'");
                 }
                 policy.resources.push_back(ParseRule(r, e.second, pattern, k + "." + pattern));
               }
             }}});
    if (!policy.default_rule && policy.resources.empty()) {
      r.FailAt(root.Mark(), "the policy has no rule: nothing could ever be released");
    }
  } catch (const yaml::Error& e) {
    return e.status;
  }
  return policy;
}

Result<Policy> LoadPolicy(const std::string& path) {
  auto text = ReadTextFile(path, 1 << 20);
  if (!text.ok()) return text.status().WithContext("policy");
  return ParsePolicy(*text, path);
}

Result<int> CompareVersions(std::string_view a, std::string_view b, int base) {
  auto parts = [&](std::string_view v) -> Result<std::vector<uint64_t>> {
    std::vector<uint64_t> out;
    size_t start = 0;
    while (true) {
      size_t dot = v.find('.', start);
      std::string_view part = v.substr(start, dot == std::string_view::npos ? dot : dot - start);
      if (part.empty() || part.size() > 8) {
        return InvalidInput("'" + std::string(v) + "' is not a dotted version");
      }
      uint64_t n = 0;
      for (char ch : part) {
        int d = std::isdigit(static_cast<unsigned char>(ch)) ? ch - '0'
                : base == 16 && std::isxdigit(static_cast<unsigned char>(ch))
                    ? std::tolower(static_cast<unsigned char>(ch)) - 'a' + 10
                    : -1;
        if (d < 0) return InvalidInput("'" + std::string(v) + "' is not a dotted version");
        n = n * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
      }
      out.push_back(n);
      if (dot == std::string_view::npos) return out;
      start = dot + 1;
    }
  };
  CVM_ASSIGN_OR_RETURN(auto pa, parts(a));
  CVM_ASSIGN_OR_RETURN(auto pb, parts(b));
  for (size_t i = 0; i < std::max(pa.size(), pb.size()); ++i) {
    uint64_t x = i < pa.size() ? pa[i] : 0;
    uint64_t y = i < pb.size() ? pb[i] : 0;
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

namespace {

void EvaluateGpus(const GpuRule& rule, const evidence::Claims& c, std::vector<std::string>& v) {
  if (c.gpus.empty()) {
    v.push_back("the rule requires GPUs but the evidence carries no GPU evidence");
    return;
  }
  if (rule.count && c.gpus.size() != *rule.count) {
    v.push_back(std::to_string(c.gpus.size()) + " GPUs, the rule requires " +
                std::to_string(*rule.count));
  }
  for (size_t i = 0; i < c.gpus.size(); ++i) {
    const evidence::GpuClaims& g = c.gpus[i];
    std::string name = "gpu" + std::to_string(i) + " ";
    if (!rule.architectures.empty() && rule.architectures.count(g.arch) == 0) {
      v.push_back(name + "architecture " + g.arch + " is not accepted");
    }
    auto at_least = [&](const std::string& have, const std::string& min, int base,
                        const char* what) {
      if (min.empty()) return;
      auto cmp = CompareVersions(have, min, base);
      if (!cmp.ok()) {
        v.push_back(name + what + " '" + have + "' is not a version");
      } else if (*cmp < 0) {
        v.push_back(name + what + " " + have + " is below the minimum " + min);
      }
    };
    at_least(g.driver_version, rule.min_driver_version, 10, "driver");
    at_least(g.vbios_version, rule.min_vbios_version, 16, "VBIOS");
    if (!rule.cc_modes.empty() && rule.cc_modes.count(g.cc_mode) == 0) {
      v.push_back(name + "CC mode " + (g.cc_mode.empty() ? "(not stated)" : g.cc_mode) +
                  " is not accepted");
    }
    if (rule.require_rim_match && g.measurements != "match") {
      v.push_back(name + "measurements are " + g.measurements +
                  ", the rule requires both RIMs to match");
    }
  }
}

}  // namespace

std::vector<std::string> EvaluateRule(const PolicyRule& rule, const evidence::Claims& c,
                                      std::chrono::seconds evidence_age) {
  std::vector<std::string> v;
  std::string tee(evidence::TeeKindName(c.tee));
  if (rule.tee.count(c.tee) == 0) v.push_back("TEE kind " + tee + " is not accepted");
  if (c.debug && !rule.allow_debug) v.push_back("debug guest refused (allow_debug is false)");
  if (c.simulated_root && !rule.allow_simulated) {
    v.push_back("evidence chains to a simulated root (allow_simulated is false)");
  }
  if (rule.max_evidence_age && evidence_age > *rule.max_evidence_age) {
    v.push_back("evidence is " + std::to_string(evidence_age.count()) + "s old, more than the " +
                std::to_string(rule.max_evidence_age->count()) + "s allowed");
  }
  if (IsSnpKind(c.tee)) {
    if (!rule.snp_measurements.empty() && !Contains(rule.snp_measurements, c.measurement)) {
      v.push_back("measurement " + Shown(c.measurement) + " is not accepted");
    }
    if (!rule.snp_id_key_digests.empty() && !Contains(rule.snp_id_key_digests, c.id_key_digest)) {
      v.push_back("ID key digest " + Shown(c.id_key_digest) + " is not accepted");
    }
    if (!rule.snp_author_key_digests.empty() &&
        !Contains(rule.snp_author_key_digests, c.author_key_digest)) {
      v.push_back("author key digest " + Shown(c.author_key_digest) + " is not accepted");
    }
    if (!rule.host_data.empty() && !Contains(rule.host_data, c.host_data)) {
      v.push_back("host_data " + Shown(c.host_data) + " is not accepted");
    }
    for (const auto& [comp, min] : rule.min_tcb) {
      auto it = c.tcb.find(comp);
      if (it == c.tcb.end()) {
        v.push_back("TCB component " + comp + " is not reported");
      } else if (it->second < min) {
        v.push_back("TCB " + comp + " " + std::to_string(it->second) + " is below the minimum " +
                    std::to_string(min));
      }
    }
    if (rule.min_guest_svn && c.guest_svn < *rule.min_guest_svn) {
      v.push_back("guest SVN " + std::to_string(c.guest_svn) + " is below the minimum " +
                  std::to_string(*rule.min_guest_svn));
    }
  }
  if (IsTdxKind(c.tee)) {
    if (!rule.mrtd.empty() && !Contains(rule.mrtd, c.measurement)) {
      v.push_back("MRTD " + Shown(c.measurement) + " is not accepted");
    }
    if (!rule.mrconfigid.empty() && !Contains(rule.mrconfigid, c.host_data)) {
      v.push_back("MRCONFIGID " + Shown(c.host_data) + " is not accepted");
    }
    for (const auto& [index, accepted] : rule.rtmrs) {
      if (index >= c.rtmrs.size()) {
        v.push_back("RTMR" + std::to_string(index) + " is not reported");
      } else if (!Contains(accepted, c.rtmrs[index])) {
        v.push_back("RTMR" + std::to_string(index) + " " + Shown(c.rtmrs[index]) +
                    " is not accepted");
      }
    }
    if (rule.tcb_statuses) {
      if (!c.tcb_status) {
        v.push_back("the TCB status was not evaluated (no collateral)");
      } else if (rule.tcb_statuses->count(*c.tcb_status) == 0) {
        v.push_back("TCB status " + *c.tcb_status + " is not accepted");
      }
    }
    if (rule.advisories) {
      for (const auto& id : c.advisories) {
        if (rule.advisories->count(id) == 0) v.push_back("advisory " + id + " is not tolerated");
      }
    }
  }
  if (rule.gpu) EvaluateGpus(*rule.gpu, c, v);
  for (const auto& [alg, indices] : rule.pcrs) {
    auto bank = c.pcrs.find(alg);
    for (const auto& [index, accepted] : indices) {
      std::string name = std::string(DigestName(alg)) + ":" + std::to_string(index);
      if (bank == c.pcrs.end() || bank->second.count(index) == 0) {
        v.push_back("PCR " + name + " is not quoted");
      } else if (!Contains(accepted, bank->second.at(index))) {
        v.push_back("PCR " + name + " " + Shown(bank->second.at(index)) + " is not accepted");
      }
    }
  }
  return v;
}

}  // namespace cvm::rp
