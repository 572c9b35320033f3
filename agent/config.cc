#include "agent/config.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <map>
#include <set>

#include "common/encoding.h"
#include "common/file_util.h"

namespace cvm::agent {

const char* TeeSettingName(TeeSetting tee) {
  switch (tee) {
    case TeeSetting::kAuto:
      return "auto";
    case TeeSetting::kSnp:
      return "snp";
    case TeeSetting::kTdx:
      return "tdx";
    case TeeSetting::kAzSnpVtpm:
      return "az-snp-vtpm";
    case TeeSetting::kAzTdxVtpm:
      return "az-tdx-vtpm";
    case TeeSetting::kSimSnp:
      return "sim-snp";
    case TeeSetting::kSimTdx:
      return "sim-tdx";
  }
  return "?";
}

const char* GpuSettingName(GpuSetting gpu) {
  switch (gpu) {
    case GpuSetting::kOff:
      return "off";
    case GpuSetting::kAuto:
      return "auto";
    case GpuSetting::kRequired:
      return "required";
  }
  return "?";
}

const ResourceConfig* Config::FindResource(std::string_view name) const {
  for (const auto& r : resources) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

// Messages are appended, not "'" + std::string(text): GCC 12 -O3 reports a false -Wrestrict there.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  if (text.empty()) return InvalidInput("empty duration");
  if (text == "0") return std::chrono::milliseconds(0);
  uint64_t total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), n);
    if (ec != std::errc() || end == text.data() + i) {
      return InvalidInput(
          std::string("'").append(text).append("' is not a duration (e.g. 500ms, 5s, 2m, 1h)"));
    }
    i = static_cast<size_t>(end - text.data());
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    uint64_t scale = 0;
    if (unit == "ms")
      scale = 1;
    else if (unit == "s")
      scale = 1000;
    else if (unit == "m")
      scale = 60 * 1000;
    else if (unit == "h")
      scale = 3600 * 1000;
    else
      return InvalidInput(std::string("'").append(text).append("': unit must be ms, s, m or h"));
    // A week is far beyond any timeout this daemon has; refusing it also keeps the sum in range.
    constexpr uint64_t kMaxMs = 7ULL * 24 * 3600 * 1000;
    if (n > kMaxMs / scale || total_ms + n * scale > kMaxMs) {
      return InvalidInput(std::string("'").append(text).append("' is longer than a week"));
    }
    total_ms += n * scale;
  }
  return std::chrono::milliseconds(total_ms);
}

namespace {

using Handler = std::function<void(const YAML::Node&, const std::string&)>;

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
}
bool IsName(std::string_view s) {
  return !s.empty() && s.size() <= 128 && s[0] != '.' &&
         std::all_of(s.begin(), s.end(), IsNameChar);
}

// The canonical lower-case form of a LUKS UUID (8-4-4-4-12 hex digits), as the token plugin
// sends it (luks/token.h does the same on the plugin's side; the agent does not link luks/).
Result<std::string> CanonicalUuid(std::string_view uuid) {
  std::string out;
  bool ok = uuid.size() == 36;
  for (size_t i = 0; ok && i < uuid.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    unsigned char c = static_cast<unsigned char>(uuid[i]);
    if (dash ? c != '-' : !std::isxdigit(c)) ok = false;
    out.push_back(static_cast<char>(std::tolower(c)));
  }
  if (!ok) {
    // Appended piecewise: GCC 12 -O3 reports a false -Wrestrict for "literal" + std::string.
    std::string message = "'";
    message.append(uuid);
    message.append("' is not a UUID (8-4-4-4-12 hex digits)");
    return InvalidInput(std::move(message));
  }
  return out;
}

// Collects every error with its position; the parse goes on after an error so that one run of
// --check-config lists them all.
class Parser {
 public:
  explicit Parser(std::string source) : source_(std::move(source)) {}

  void Error(const YAML::Mark& mark, const std::string& key, const std::string& what) {
    std::string where = source_;
    if (mark.line >= 0) {
      where.append(":").append(std::to_string(mark.line + 1));
      where.append(":").append(std::to_string(mark.column + 1));
    }
    errors_.push_back(where + ": " + (key.empty() ? "" : key + ": ") + what);
  }
  void Error(const YAML::Node& node, const std::string& key, const std::string& what) {
    Error(node.Mark(), key, what);
  }
  const std::vector<std::string>& errors() const { return errors_; }

  // Calls the handler of each key of a mapping; an unknown key is an error at the key.
  void Walk(const YAML::Node& map, const std::string& prefix,
            const std::map<std::string, Handler>& handlers) {
    if (!map.IsMap()) {
      Error(map, prefix, "expected a mapping");
      return;
    }
    for (const auto& kv : map) {
      std::string key = kv.first.Scalar();
      std::string path = prefix.empty() ? key : prefix + "." + key;
      auto it = handlers.find(key);
      if (it == handlers.end()) {
        std::string known;
        for (const auto& [name, _] : handlers) known += (known.empty() ? "" : ", ") + name;
        Error(kv.first, path, "unknown key (expected one of: " + known + ")");
        continue;
      }
      it->second(kv.second, path);
    }
  }

  bool Scalar(const YAML::Node& n, const std::string& key, std::string* out) {
    if (!n.IsScalar()) {
      Error(n, key, "expected a single value");
      return false;
    }
    *out = n.Scalar();
    return true;
  }
  bool String(const YAML::Node& n, const std::string& key, std::string* out) {
    std::string v;
    if (!Scalar(n, key, &v)) return false;
    if (v.find('\0') != std::string::npos) {
      Error(n, key, "contains a NUL character");
      return false;
    }
    *out = std::move(v);
    return true;
  }
  bool Bool(const YAML::Node& n, const std::string& key, bool* out) {
    bool b = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, b)) {
      Error(n, key, "expected true or false");
      return false;
    }
    *out = b;
    return true;
  }
  bool Unsigned(const YAML::Node& n, const std::string& key, uint64_t max, uint64_t* out) {
    std::string v;
    if (!Scalar(n, key, &v)) return false;
    uint64_t x = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size()) {
      Error(n, key, "expected a non-negative integer, got '" + v + "'");
      return false;
    }
    if (x > max) {
      Error(n, key, std::to_string(x) + " is larger than " + std::to_string(max));
      return false;
    }
    *out = x;
    return true;
  }
  bool Duration(const YAML::Node& n, const std::string& key, std::chrono::milliseconds* out) {
    std::string v;
    if (!Scalar(n, key, &v)) return false;
    auto d = ParseDuration(v);
    if (!d.ok()) {
      Error(n, key, d.status().message());
      return false;
    }
    *out = *d;
    return true;
  }
  bool AbsolutePath(const YAML::Node& n, const std::string& key, std::string* out) {
    std::string v;
    if (!String(n, key, &v)) return false;
    if (v.empty() || v[0] != '/') {
      Error(n, key, "expected an absolute path, got '" + v + "'");
      return false;
    }
    if (v.find("/../") != std::string::npos || v.ends_with("/..")) {
      Error(n, key, "'..' is not allowed in a path");
      return false;
    }
    *out = std::move(v);
    return true;
  }
  template <typename F>
  void List(const YAML::Node& n, const std::string& key, F each) {
    if (!n.IsSequence()) {
      Error(n, key, "expected a list");
      return;
    }
    for (size_t i = 0; i < n.size(); ++i) each(n[i], key + "[" + std::to_string(i) + "]");
  }
  // A uid or gid given as a number: true with *numeric set when `v` is one (and in range).
  bool NumericId(const YAML::Node& n, const std::string& key, const std::string& v,
                 const char* what, uint32_t* out, bool* numeric) {
    uint64_t x = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    *numeric = !v.empty() && ec == std::errc() && end == v.data() + v.size();
    if (!*numeric) return true;
    if (x >= 0xFFFFFFFFu) {
      Error(n, key, std::string(what) + " " + v + " is out of range");
      return false;
    }
    *out = static_cast<uint32_t>(x);
    return true;
  }
  bool Uid(const YAML::Node& n, const std::string& key, uid_t* out) {
    std::string v;
    bool numeric = false;
    uint32_t id = 0;
    if (!Scalar(n, key, &v) || !NumericId(n, key, v, "uid", &id, &numeric)) return false;
    if (numeric) {
      *out = id;
      return true;
    }
    struct passwd pw {};
    struct passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (getpwnam_r(v.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
      Error(n, key, "no user named '" + v + "'");
      return false;
    }
    *out = found->pw_uid;
    return true;
  }
  bool Gid(const YAML::Node& n, const std::string& key, gid_t* out) {
    std::string v;
    bool numeric = false;
    uint32_t id = 0;
    if (!Scalar(n, key, &v) || !NumericId(n, key, v, "gid", &id, &numeric)) return false;
    if (numeric) {
      *out = id;
      return true;
    }
    struct group gr {};
    struct group* found = nullptr;
    std::vector<char> buf(16384);
    if (getgrnam_r(v.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
      Error(n, key, "no group named '" + v + "'");
      return false;
    }
    *out = found->gr_gid;
    return true;
  }
  bool Mode(const YAML::Node& n, const std::string& key, mode_t* out) {
    std::string v;
    if (!Scalar(n, key, &v)) return false;
    // Always octal, whatever YAML would make of a leading zero: "0600" and "600" are the same.
    unsigned x = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x, 8);
    if (v.empty() || v.size() > 4 || ec != std::errc() || end != v.data() + v.size()) {
      Error(n, key, "expected an octal mode such as \"0600\", got '" + v + "'");
      return false;
    }
    if (x & 07000) {
      Error(n, key, "setuid, setgid and sticky bits are not allowed");
      return false;
    }
    *out = static_cast<mode_t>(x);
    return true;
  }

 private:
  std::string source_;
  std::vector<std::string> errors_;
};

bool IsLoopbackUrl(std::string_view url) {
  for (std::string_view host : {"http://127.0.0.1", "http://localhost", "http://[::1]"}) {
    if (url.starts_with(host) &&
        (url.size() == host.size() || url[host.size()] == ':' || url[host.size()] == '/')) {
      return true;
    }
  }
  return false;
}

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

void ParseRelyingParty(Parser& p, const YAML::Node& n, const std::string& key,
                       RelyingPartyConfig* rp) {
  p.Walk(n, key,
         {{"url",
           [&](const YAML::Node& v, const std::string& k) {
             std::string u;
             if (!p.String(v, k, &u)) return;
             if (!u.starts_with("https://") && !IsLoopbackUrl(u)) {
               return p.Error(
                   v, k,
                   "expected an https:// URL (http:// only for a loopback host), got '" + u + "'");
             }
             while (u.ends_with("/")) u.pop_back();
             rp->url = u;
           }},
          {"ca_file",
           [&](const YAML::Node& v, const std::string& k) { p.AbsolutePath(v, k, &rp->ca_file); }},
          {"pin_sha256",
           [&](const YAML::Node& v, const std::string& k) {
             std::string h;
             if (!p.String(v, k, &h)) return;
             std::transform(h.begin(), h.end(), h.begin(),
                            [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
             if (h.size() != 64 || !IsHex(h)) {
               return p.Error(v, k, "expected 64 hex digits (SHA-256 of the SubjectPublicKeyInfo)");
             }
             rp->pin_sha256 = h;
           }},
          {"proxy",
           [&](const YAML::Node& v, const std::string& k) {
             std::string u;
             if (!p.String(v, k, &u)) return;
             if (!u.empty() && !u.starts_with("http://") && !u.starts_with("https://") &&
                 !u.starts_with("socks5://")) {
               return p.Error(v, k, "expected an http://, https:// or socks5:// proxy URL");
             }
             rp->proxy = u;
           }},
          {"token_key", [&](const YAML::Node& v, const std::string& k) {
             p.AbsolutePath(v, k, &rp->token_key);
           }}});
  if (n.IsMap() && rp->url.empty() && !n["url"]) p.Error(n, key, "url is required");
}

void ParseResource(Parser& p, const YAML::Node& n, const std::string& key, ResourceConfig* r) {
  p.Walk(
      n, key,
      {{"name",
        [&](const YAML::Node& v, const std::string& k) {
          std::string s;
          if (!p.String(v, k, &s)) return;
          if (!IsName(s)) {
            return p.Error(v, k,
                           "'" + s + "' is not a name ([A-Za-z0-9._-], not starting with '.')");
          }
          r->name = s;
        }},
       {"path",
        [&](const YAML::Node& v, const std::string& k) {
          std::string s;
          if (!p.String(v, k, &s)) return;
          // "{vm_id}/<type>/<tag>": a per-VM resource (docs/configuration.md).
          if (s.starts_with(std::string(kVmIdPath))) {
            std::string rest = s.substr(std::string(kVmIdPath).size());
            size_t slash = rest.find('/');
            if (slash == std::string::npos || rest.find('/', slash + 1) != std::string::npos ||
                !IsName(rest.substr(0, slash)) || !IsName(rest.substr(slash + 1))) {
              return p.Error(v, k, "expected {vm_id}/type/tag, got '" + s + "'");
            }
            r->path = s;
            return;
          }
          size_t a = s.find('/');
          size_t b = a == std::string::npos ? a : s.find('/', a + 1);
          if (a == std::string::npos || b == std::string::npos ||
              s.find('/', b + 1) != std::string::npos || !IsName(s.substr(0, a)) ||
              !IsName(s.substr(a + 1, b - a - 1)) || !IsName(s.substr(b + 1))) {
            return p.Error(v, k, "expected repository/type/tag, got '" + s + "'");
          }
          r->path = s;
        }},
       {"sinks", [&](const YAML::Node& sinks, const std::string& sk) {
          p.Walk(
              sinks, sk,
              {{"file",
                [&](const YAML::Node& v, const std::string& k) {
                  FileSink f;
                  if (v.IsNull()) {
                    r->file = f;
                    return;
                  }
                  p.Walk(v, k,
                         {{"name",
                           [&](const YAML::Node& x, const std::string& xk) {
                             std::string s;
                             if (!p.String(x, xk, &s)) return;
                             if (!IsName(s)) {
                               return p.Error(x, xk,
                                              "'" + s +
                                                  "' is not a file name ([A-Za-z0-9._-], no "
                                                  "directories)");
                             }
                             f.name = s;
                           }},
                          {"owner", [&](const YAML::Node& x,
                                        const std::string& xk) { p.Uid(x, xk, &f.owner); }},
                          {"group", [&](const YAML::Node& x,
                                        const std::string& xk) { p.Gid(x, xk, &f.group); }},
                          {"mode", [&](const YAML::Node& x, const std::string& xk) {
                             p.Mode(x, xk, &f.mode);
                           }}});
                  r->file = f;
                }},
               {"credential",
                [&](const YAML::Node& v, const std::string& k) {
                  CredentialSink c;
                  p.Walk(v, k,
                         {{"units",
                           [&](const YAML::Node& x, const std::string& xk) {
                             p.List(x, xk, [&](const YAML::Node& u, const std::string& uk) {
                               std::string s;
                               if (!p.String(u, uk, &s)) return;
                               if (!IsName(s) || s.find('.') == std::string::npos) {
                                 return p.Error(
                                     u, uk, "'" + s + "' is not a unit name (e.g. app.service)");
                               }
                               c.units.push_back(s);
                             });
                           }},
                          {"name", [&](const YAML::Node& x, const std::string& xk) {
                             std::string s;
                             if (!p.String(x, xk, &s)) return;
                             if (!IsName(s)) return p.Error(x, xk, "'" + s + "' is not a name");
                             c.name = s;
                           }}});
                  if (v.IsMap() && !v["units"]) p.Error(v, k, "units is required");
                  if (v.IsMap() && v["units"] && v["units"].IsSequence() && v["units"].size() == 0)
                    p.Error(v["units"], k + ".units", "no unit allowed: remove the sink instead");
                  r->credential = c;
                }},
               {"cryptsetup",
                [&](const YAML::Node& v, const std::string& k) {
                  CryptsetupSink c;
                  p.Walk(v, k,
                         {{"volume",
                           [&](const YAML::Node& x, const std::string& xk) {
                             std::string s;
                             if (!p.String(x, xk, &s)) return;
                             if (!IsName(s))
                               return p.Error(x, xk, "'" + s + "' is not a volume name");
                             c.volume = s;
                           }},
                          {"keyfile", [&](const YAML::Node& x,
                                          const std::string& xk) { p.Bool(x, xk, &c.keyfile); }},
                          {"uuid", [&](const YAML::Node& x, const std::string& xk) {
                             std::string s;
                             if (!p.String(x, xk, &s)) return;
                             auto u = CanonicalUuid(s);
                             if (!u.ok()) return p.Error(x, xk, u.status().message());
                             c.uuid = *u;
                           }}});
                  if (v.IsMap() && !v["volume"]) p.Error(v, k, "volume is required");
                  r->cryptsetup = c;
                }},
               {"api", [&](const YAML::Node& v, const std::string& k) {
                  ApiSink a;
                  p.Walk(v, k,
                         {{"uids",
                           [&](const YAML::Node& x, const std::string& xk) {
                             p.List(x, xk, [&](const YAML::Node& u, const std::string& uk) {
                               uid_t id = 0;
                               if (p.Uid(u, uk, &id)) a.uids.push_back(id);
                             });
                           }},
                          {"gids",
                           [&](const YAML::Node& x, const std::string& xk) {
                             p.List(x, xk, [&](const YAML::Node& u, const std::string& uk) {
                               gid_t id = 0;
                               if (p.Gid(u, uk, &id)) a.gids.push_back(id);
                             });
                           }},
                          {"allow_tcp", [&](const YAML::Node& x, const std::string& xk) {
                             p.Bool(x, xk, &a.allow_tcp);
                           }}});
                  if (a.uids.empty() && a.gids.empty() && !a.allow_tcp) {
                    p.Error(v, k,
                            "no uid or gid allowed and allow_tcp is false: nobody could read it");
                  }
                  r->api = a;
                }}});
        }}});
  if (!n.IsMap()) return;
  if (!n["name"]) p.Error(n, key, "name is required");
  if (!n["path"]) p.Error(n, key, "path is required");
  if (!n["sinks"])
    p.Error(n, key, "sinks is required (a secret nobody receives is a mistake)");
  else if (!r->file && !r->credential && !r->cryptsetup && !r->api)
    p.Error(n["sinks"], key + ".sinks", "no sink configured");
  if (r->file && r->file->name.empty()) r->file->name = r->name;
  if (r->credential && r->credential->name.empty()) r->credential->name = r->name;
}

void ParseRoot(Parser& p, const YAML::Node& root, Config* c) {
  auto dur = [&](std::chrono::milliseconds* out) {
    return [&p, out](const YAML::Node& v, const std::string& k) { p.Duration(v, k, out); };
  };
  auto abs = [&](std::string* out) {
    return [&p, out](const YAML::Node& v, const std::string& k) { p.AbsolutePath(v, k, out); };
  };
  p.Walk(
      root, "",
      {{"tee",
        [&](const YAML::Node& v, const std::string& k) {
          std::string s;
          if (!p.String(v, k, &s)) return;
          for (TeeSetting t :
               {TeeSetting::kAuto, TeeSetting::kSnp, TeeSetting::kTdx, TeeSetting::kAzSnpVtpm,
                TeeSetting::kAzTdxVtpm, TeeSetting::kSimSnp, TeeSetting::kSimTdx}) {
            if (s == TeeSettingName(t)) {
              c->tee = t;
              return;
            }
          }
          p.Error(v, k,
                  "unknown TEE '" + s +
                      "' (expected auto, snp, tdx, az-snp-vtpm, az-tdx-vtpm, sim-snp or sim-tdx)");
        }},
       {"sim",
        [&](const YAML::Node& v, const std::string& k) {
          p.Walk(v, k,
                 {{"state_dir", abs(&c->sim_state_dir)},
                  {"measurement", [&](const YAML::Node& x, const std::string& xk) {
                     std::string hex;
                     if (!p.String(x, xk, &hex)) return;
                     auto m = HexDecodeFixed(hex, 48);
                     if (!m.ok()) {
                       p.Error(x, xk, "expected 96 hex digits (48 bytes): " + m.status().message());
                       return;
                     }
                     c->sim_measurement = std::move(m).value();
                   }}});
        }},
       {"init_data", abs(&c->init_data)},
       {"tpm",
        [&](const YAML::Node& v, const std::string& k) {
          p.Walk(v, k,
                 {{"enabled", [&](const YAML::Node& x,
                                  const std::string& xk) { p.Bool(x, xk, &c->tpm.enabled); }},
                  {"tcti",
                   [&](const YAML::Node& x, const std::string& xk) {
                     std::string t;
                     if (!p.String(x, xk, &t)) return;
                     if (t.empty()) return p.Error(x, xk, "empty TCTI");
                     c->tpm.tcti = t;
                   }},
                  {"event_log",
                   [&](const YAML::Node& x, const std::string& xk) {
                     // "": send no event log (a guest whose kernel exposes none).
                     if (x.IsScalar() && x.Scalar().empty()) {
                       c->tpm.event_log.clear();
                       return;
                     }
                     p.AbsolutePath(x, xk, &c->tpm.event_log);
                   }},
                  {"pcrs", [&](const YAML::Node& x, const std::string& xk) {
                     // Once a setting; refused rather than ignored, so nobody relies on it.
                     p.Error(x, xk,
                             "not configurable: the quote always covers sha256 PCRs 0-23, the "
                             "PCRs Trustee's tpm evidence carries (remove this key)");
                   }}});
        }},
       {"gpu",
        [&](const YAML::Node& v, const std::string& k) {
          std::string s;
          if (!p.String(v, k, &s)) return;
          for (GpuSetting g : {GpuSetting::kOff, GpuSetting::kAuto, GpuSetting::kRequired}) {
            if (s == GpuSettingName(g)) {
              c->gpu = g;
              return;
            }
          }
          p.Error(v, k, "unknown GPU setting '" + s + "' (expected off, auto or required)");
        }},
       {"relying_parties",
        [&](const YAML::Node& v, const std::string& k) {
          p.List(v, k, [&](const YAML::Node& item, const std::string& ik) {
            RelyingPartyConfig rp;
            ParseRelyingParty(p, item, ik, &rp);
            c->relying_parties.push_back(rp);
          });
        }},
       {"timeouts",
        [&](const YAML::Node& v, const std::string& k) {
          p.Walk(v, k,
                 {{"connect", dur(&c->timeouts.connect)},
                  {"request", dur(&c->timeouts.request)},
                  {"deadline", dur(&c->timeouts.deadline)},
                  {"backoff_initial", dur(&c->timeouts.backoff_initial)},
                  {"backoff_max", dur(&c->timeouts.backoff_max)},
                  {"jitter", [&](const YAML::Node& x, const std::string& xk) {
                     double j = 0;
                     if (!x.IsScalar() || !YAML::convert<double>::decode(x, j)) {
                       return p.Error(x, xk, "expected a number between 0 and 1");
                     }
                     if (!(j >= 0 && j <= 1)) return p.Error(x, xk, "must be between 0 and 1");
                     c->timeouts.jitter = j;
                   }}});
        }},
       {"refresh",
        [&](const YAML::Node& v, const std::string& k) {
          p.Walk(v, k,
                 {{"before_expiry", dur(&c->refresh.before_expiry)},
                  {"interval", dur(&c->refresh.interval)}});
        }},
       {"resources",
        [&](const YAML::Node& v, const std::string& k) {
          p.List(v, k, [&](const YAML::Node& item, const std::string& ik) {
            ResourceConfig r;
            ParseResource(p, item, ik, &r);
            c->resources.push_back(std::move(r));
          });
        }},
       {"api",
        [&](const YAML::Node& v, const std::string& k) {
          p.Walk(
              v, k,
              {{"socket", abs(&c->api.socket)},
               {"socket_mode", [&](const YAML::Node& x,
                                   const std::string& xk) { p.Mode(x, xk, &c->api.socket_mode); }},
               {"tcp_port",
                [&](const YAML::Node& x, const std::string& xk) {
                  uint64_t port = 0;
                  if (!p.Unsigned(x, xk, 65535, &port)) return;
                  if (port == 0) return p.Error(x, xk, "port 0 is not a port");
                  c->api.tcp_port = static_cast<uint16_t>(port);
                }},
               {"header_limit",
                [&](const YAML::Node& x, const std::string& xk) {
                  uint64_t n = 0;
                  if (!p.Unsigned(x, xk, 1 << 20, &n)) return;
                  if (n < 1024) return p.Error(x, xk, "at least 1024 bytes");
                  c->api.header_limit = n;
                }},
               {"body_limit",
                [&](const YAML::Node& x, const std::string& xk) {
                  uint64_t n = 0;
                  if (p.Unsigned(x, xk, 1 << 20, &n)) c->api.body_limit = n;
                }},
               {"read_timeout", dur(&c->api.read_timeout)},
               {"max_connections",
                [&](const YAML::Node& x, const std::string& xk) {
                  uint64_t n = 0;
                  if (!p.Unsigned(x, xk, 100000, &n)) return;
                  if (n == 0) return p.Error(x, xk, "must be at least 1");
                  c->api.max_connections = n;
                }},
               {"threads", [&](const YAML::Node& x, const std::string& xk) {
                  uint64_t n = 0;
                  if (!p.Unsigned(x, xk, 64, &n)) return;
                  if (n == 0) return p.Error(x, xk, "must be at least 1");
                  c->api.threads = static_cast<int>(n);
                }}});
        }},
       {"paths",
        [&](const YAML::Node& v, const std::string& k) {
          p.Walk(v, k,
                 {{"secrets_dir", abs(&c->paths.secrets_dir)},
                  {"credentials_socket", abs(&c->paths.credentials_socket)},
                  {"cryptsetup_socket", abs(&c->paths.cryptsetup_socket)},
                  {"cryptsetup_keys_dir", abs(&c->paths.cryptsetup_keys_dir)}});
        }},
       {"luks",
        [&](const YAML::Node& v, const std::string& k) {
          p.Walk(v, k, {{"allowed_ciphers", [&](const YAML::Node& x, const std::string& xk) {
                           c->luks.allowed_ciphers.clear();
                           p.List(x, xk, [&](const YAML::Node& e, const std::string& ek) {
                             std::string s;
                             if (!p.String(e, ek, &s)) return;
                             if (s.empty() || s.find("null") != std::string::npos) {
                               return p.Error(e, ek, "'" + s + "' is not an encrypting cipher");
                             }
                             c->luks.allowed_ciphers.push_back(s);
                           });
                           if (c->luks.allowed_ciphers.empty()) {
                             p.Error(x, xk, "no cipher allowed: no volume could be unlocked");
                           }
                         }}});
        }},
       {"log_level", [&](const YAML::Node& v, const std::string& k) {
          std::string s;
          if (!p.String(v, k, &s)) return;
          if (s != "error" && s != "warning" && s != "notice" && s != "info" && s != "debug") {
            return p.Error(v, k, "expected error, warning, notice, info or debug");
          }
          c->log_level = s;
        }}});
}

// Checks that need the whole file: cross references, uniqueness, combinations.
void CheckWhole(Parser& p, const YAML::Node& root, Config* c) {
  bool sim = c->tee == TeeSetting::kSimSnp || c->tee == TeeSetting::kSimTdx;
  if (sim && c->sim_state_dir.empty()) {
    p.Error(root["tee"] ? root["tee"] : root, "tee",
            std::string(TeeSettingName(c->tee)) + " needs sim.state_dir");
  }
  if (!sim && root["sim"]) {
    p.Error(root["sim"], "sim", "only allowed with tee: sim-snp or sim-tdx");
  }
  const TimeoutsConfig& t = c->timeouts;
  if (t.backoff_initial.count() == 0)
    p.Error(root["timeouts"], "timeouts.backoff_initial", "must be positive");
  if (t.backoff_max < t.backoff_initial) {
    p.Error(root["timeouts"], "timeouts.backoff_max", "is shorter than backoff_initial");
  }
  if (t.deadline.count() == 0) p.Error(root["timeouts"], "timeouts.deadline", "must be positive");
  if (t.connect.count() == 0 || t.request.count() == 0) {
    p.Error(root["timeouts"], "timeouts", "connect and request must be positive");
  }
  if (c->api.read_timeout.count() == 0)
    p.Error(root["api"], "api.read_timeout", "must be positive");
  if (!c->resources.empty() && c->relying_parties.empty()) {
    p.Error(root["resources"], "resources", "resources are configured but no relying_parties");
  }
  std::set<std::string> names, files, volumes, uuids, creds;
  const YAML::Node list = root["resources"];
  for (size_t i = 0; i < c->resources.size(); ++i) {
    const ResourceConfig& r = c->resources[i];
    YAML::Node at = list && list.IsSequence() && i < list.size() ? list[i] : root;
    std::string key = "resources[" + std::to_string(i) + "]";
    if (!r.name.empty() && !names.insert(r.name).second) {
      p.Error(at, key + ".name", "'" + r.name + "' is used by two resources");
    }
    if (r.file && !r.file->name.empty() && !files.insert(r.file->name).second) {
      p.Error(at, key + ".sinks.file", "file '" + r.file->name + "' is written by two resources");
    }
    if (r.cryptsetup && !r.cryptsetup->volume.empty() &&
        !volumes.insert(r.cryptsetup->volume).second) {
      p.Error(at, key + ".sinks.cryptsetup",
              "volume '" + r.cryptsetup->volume + "' is served by two resources");
    }
    if (r.cryptsetup && !r.cryptsetup->uuid.empty() && !uuids.insert(r.cryptsetup->uuid).second) {
      p.Error(at, key + ".sinks.cryptsetup",
              "volume UUID " + r.cryptsetup->uuid + " is served by two resources");
    }
    if (r.credential) {
      for (const auto& u : r.credential->units) {
        if (!creds.insert(u + "/" + r.credential->name).second) {
          p.Error(at, key + ".sinks.credential",
                  "unit '" + u + "' credential '" + r.credential->name + "' is served twice");
        }
      }
    }
  }
}

}  // namespace

Result<Config> ParseConfig(std::string_view yaml, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return InvalidInput(source + ":" + std::to_string(e.mark.line + 1) + ":" +
                        std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  Config c;
  c.source = source;
  Parser p(source);
  try {
    if (root.IsNull()) {
      // An empty file is the default configuration (auto TEE, API only).
    } else {
      ParseRoot(p, root, &c);
      CheckWhole(p, root, &c);
    }
  } catch (const YAML::Exception& e) {
    p.Error(e.mark, "", e.msg);
  }
  if (!p.errors().empty()) {
    std::string all;
    for (const auto& e : p.errors()) all += (all.empty() ? "" : "\n") + e;
    return InvalidInput(all);
  }
  return c;
}

Result<Config> LoadConfig(const std::string& path) {
  CVM_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path, 1 << 20));
  return ParseConfig(text, path);
}

}  // namespace cvm::agent
