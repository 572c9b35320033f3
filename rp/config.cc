#include "rp/config.h"

#include <sys/stat.h>

#include <cerrno>
#include <filesystem>

#include "common/encoding.h"
#include "common/keys.h"
#include "evidence/kbs.h"
#include "rp/yaml_util.h"

namespace cvm::rp {
namespace {

std::string Resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return base_dir + "/" + path;
}

}  // namespace

Result<Config> ParseConfig(std::string_view text, const std::string& file) {
  yaml::Reader r(file);
  Config c;
  c.file = file;
  std::string dir = std::filesystem::path(file).parent_path().string();
  if (dir.empty()) dir = ".";
  auto path = [&](const YAML::Node& v, const std::string& k) {
    std::string p = r.String(v, k);
    if (p.empty()) r.Fail(v, k, "empty path");
    return Resolve(dir, p);
  };
  auto paths = [&](const YAML::Node& v, const std::string& k) {
    std::vector<std::string> out;
    for (const auto& p : r.StringList(v, k)) out.push_back(Resolve(dir, p));
    return out;
  };
  bool have_listen = false;
  try {
    YAML::Node root = r.Load(std::string(text));
    if (!root.IsMap()) r.FailAt(root.Mark(), "a configuration is a mapping");
    r.Walk(
        root, "",
        {{"listen",
          [&](const YAML::Node& v, const std::string& k) {
            if (!v.IsSequence() || v.size() == 0) r.Fail(v, k, "expected a list of listeners");
            for (const auto& item : v) {
              Listener l;
              l.port = 8080;
              r.Walk(item, k,
                     {{"address", [&](const YAML::Node& a,
                                      const std::string& ak) { l.address = r.String(a, ak); }},
                      {"port",
                       [&](const YAML::Node& a, const std::string& ak) {
                         l.port = static_cast<uint16_t>(r.Number(a, ak, 65535));
                       }},
                      {"tls", [&](const YAML::Node& a, const std::string& ak) {
                         l.tls = r.Bool(a, ak);
                       }}});
              c.listen.push_back(l);
            }
            have_listen = true;
          }},
         {"tls",
          [&](const YAML::Node& v, const std::string& k) {
            r.Walk(v, k,
                   {{"cert",
                     [&](const YAML::Node& a, const std::string& ak) { c.tls_cert = path(a, ak); }},
                    {"key", [&](const YAML::Node& a, const std::string& ak) {
                       c.tls_key = path(a, ak);
                     }}});
          }},
         {"token_key",
          [&](const YAML::Node& v, const std::string& k) { c.token_key = path(v, k); }},
         {"token_lifetime",
          [&](const YAML::Node& v, const std::string& k) { c.token_lifetime = r.Duration(v, k); }},
         {"issuer", [&](const YAML::Node& v, const std::string& k) { c.issuer = r.String(v, k); }},
         {"policy", [&](const YAML::Node& v, const std::string& k) { c.policy = path(v, k); }},
         {"resources",
          [&](const YAML::Node& v, const std::string& k) {
            r.Walk(v, k,
                   {{"dir", [&](const YAML::Node& a,
                                const std::string& ak) { c.resource_dir = path(a, ak); }},
                    {"inline", [&](const YAML::Node& a, const std::string& ak) {
                       if (!a.IsMap())
                         r.Fail(a, ak, "expected \"repo/type/tag\": {value|base64|file}");
                       for (const auto& e : a) {
                         std::string name = r.String(e.first, ak);
                         std::string ek = ak + "." + name;
                         if (Status valid = evidence::ValidateResourcePath(name); !valid.ok()) {
                           r.Fail(e.first, ak, valid.message());
                         }
                         std::shared_ptr<const SecretBytes> value;
                         auto set = [&](const YAML::Node& node, Bytes bytes) {
                           if (value) r.Fail(node, ek, "give exactly one of value, base64, file");
                           value = std::make_shared<const SecretBytes>(std::move(bytes));
                         };
                         r.Walk(e.second, ek,
                                {{"value",
                                  [&](const YAML::Node& x, const std::string& xk) {
                                    std::string s = r.String(x, xk);
                                    set(x, Bytes(s.begin(), s.end()));
                                  }},
                                 {"base64",
                                  [&](const YAML::Node& x, const std::string& xk) {
                                    auto b = Base64Decode(r.String(x, xk));
                                    if (!b.ok()) r.Fail(x, xk, b.status().message());
                                    set(x, std::move(b).value());
                                  }},
                                 {"file", [&](const YAML::Node& x, const std::string& xk) {
                                    std::string p = path(x, xk);
                                    auto b = ReadFile(p, c.resource_limits.max_resource_size);
                                    if (!b.ok()) r.Fail(x, xk, b.status().ToString());
                                    set(x, std::move(b).value());
                                  }}});
                         if (!value)
                           r.Fail(e.second, ek, "give exactly one of value, base64, file");
                         for (const auto& entry : c.inline_resources) {
                           if (entry.first == name) {
                             r.Fail(e.first, ak, "'" + name + "' is defined twice");
                           }
                         }
                         c.inline_resources.emplace_back(name, std::move(value));
                       }
                     }}});
          }},
         {"vm_resources",
          [&](const YAML::Node& v, const std::string& k) {
            VmResourceConfig vm;
            r.Walk(
                v, k,
                {{"dir", [&](const YAML::Node& a, const std::string& ak) { vm.dir = path(a, ak); }},
                 {"identity",
                  [&](const YAML::Node& a, const std::string& ak) {
                    vm.identity.clear();
                    for (const auto& name : r.StringList(a, ak)) {
                      auto f = ParseVmIdentityField(name);
                      if (!f.ok()) r.Fail(a, ak, f.status().message());
                      vm.identity.push_back(*f);
                    }
                    if (vm.identity.empty()) r.Fail(a, ak, "at least one identity field");
                  }},
                 {"size",
                  [&](const YAML::Node& a, const std::string& ak) {
                    vm.value_size = r.Number(a, ak, 4096);
                    if (vm.value_size < 16) r.Fail(a, ak, "at least 16 bytes");
                  }},
                 {"max_per_vm", [&](const YAML::Node& a, const std::string& ak) {
                    vm.max_per_vm = r.Number(a, ak, 100000);
                    if (vm.max_per_vm == 0) r.Fail(a, ak, "at least 1");
                  }}});
            if (vm.dir.empty()) r.Fail(v, k, "dir is required");
            c.vm_resources = std::move(vm);
          }},
         {"session_timeout",
          [&](const YAML::Node& v, const std::string& k) {
            c.session_timeout = r.Duration(v, k);
            if (c.session_timeout.count() == 0) r.Fail(v, k, "must be at least 1s");
          }},
         {"threads",
          [&](const YAML::Node& v, const std::string& k) {
            c.threads = static_cast<int>(r.Number(v, k, 256));
            if (c.threads == 0) r.Fail(v, k, "at least one thread");
          }},
         {"audit_log",
          [&](const YAML::Node& v, const std::string& k) { c.audit_log = path(v, k); }},
         {"diagnostic_header",
          [&](const YAML::Node& v, const std::string& k) { c.diagnostic_header = r.Bool(v, k); }},
         {"trust_anchors",
          [&](const YAML::Node& v, const std::string& k) {
            r.Walk(
                v, k,
                {{"snp_roots",
                  [&](const YAML::Node& a, const std::string& ak) { c.snp_roots = paths(a, ak); }},
                 {"tdx_roots",
                  [&](const YAML::Node& a, const std::string& ak) { c.tdx_roots = paths(a, ak); }},
                 {"crls",
                  [&](const YAML::Node& a, const std::string& ak) { c.crls = paths(a, ak); }},
                 {"tdx_collateral", [&](const YAML::Node& a,
                                        const std::string& ak) { c.tdx_collateral = path(a, ak); }},
                 {"fetch_collateral", [&](const YAML::Node& a, const std::string& ak) {
                    c.fetch_collateral = r.Bool(a, ak);
                  }}});
          }},
         {"gpu",
          [&](const YAML::Node& v, const std::string& k) {
            r.Walk(
                v, k,
                {{"rims",
                  [&](const YAML::Node& a, const std::string& ak) { c.gpu.rims = paths(a, ak); }},
                 {"rim_dir",
                  [&](const YAML::Node& a, const std::string& ak) { c.gpu.rim_dir = path(a, ak); }},
                 {"fetch_rims", [&](const YAML::Node& a,
                                    const std::string& ak) { c.gpu.fetch_rims = r.Bool(a, ak); }},
                 {"ocsp",
                  [&](const YAML::Node& a, const std::string& ak) { c.gpu.ocsp = r.Bool(a, ak); }},
                 {"ocsp_url",
                  [&](const YAML::Node& a, const std::string& ak) {
                    c.gpu.ocsp_url = r.String(a, ak);
                    if (c.gpu.ocsp_url.rfind("https://", 0) != 0 &&
                        c.gpu.ocsp_url.rfind("http://", 0) != 0) {
                      r.Fail(a, ak, "expected an http:// or https:// URL");
                    }
                  }},
                 {"device_roots",
                  [&](const YAML::Node& a, const std::string& ak) {
                    c.gpu.device_roots = paths(a, ak);
                  }},
                 {"rim_roots", [&](const YAML::Node& a, const std::string& ak) {
                    c.gpu.rim_roots = paths(a, ak);
                  }}});
          }},
         {"limits", [&](const YAML::Node& v, const std::string& k) {
            r.Walk(v, k,
                   {{"max_body",
                     [&](const YAML::Node& a, const std::string& ak) {
                       c.max_body = r.Size(a, ak, 64u << 20);
                     }},
                    {"max_header",
                     [&](const YAML::Node& a, const std::string& ak) {
                       c.max_header = r.Size(a, ak, 1u << 20);
                     }},
                    {"read_timeout",
                     [&](const YAML::Node& a, const std::string& ak) {
                       c.read_timeout = r.Duration(a, ak);
                       if (c.read_timeout.count() == 0) r.Fail(a, ak, "must be at least 1s");
                     }},
                    {"max_sessions",
                     [&](const YAML::Node& a, const std::string& ak) {
                       c.max_sessions = r.Number(a, ak, 10000000);
                     }},
                    {"max_connections",
                     [&](const YAML::Node& a, const std::string& ak) {
                       c.max_connections = r.Number(a, ak, 1000000);
                     }},
                    {"max_resource_size", [&](const YAML::Node& a, const std::string& ak) {
                       c.resource_limits.max_resource_size = r.Size(a, ak, 64u << 20);
                     }}});
          }}});
    if (!have_listen) c.listen.push_back(Listener{"127.0.0.1", 8080, false});
    if (c.policy.empty()) r.FailAt(root.Mark(), "missing required key 'policy'");
    if (c.token_key.empty()) r.FailAt(root.Mark(), "missing required key 'token_key'");
    bool any_tls = false;
    for (const auto& l : c.listen) any_tls = any_tls || l.tls;
    if (any_tls && (c.tls_cert.empty() || c.tls_key.empty())) {
      r.FailAt(root["listen"].Mark(), "listen: a tls listener needs tls.cert and tls.key");
    }
    if (!any_tls && (!c.tls_cert.empty() || !c.tls_key.empty())) {
      r.FailAt(root["tls"].Mark(), "tls: no listener has tls: true, so the key would be unused");
    }
  } catch (const yaml::Error& e) {
    return e.status;
  }
  return c;
}

Result<Config> LoadConfig(const std::string& path) {
  auto text = ReadTextFile(path, 1 << 20);
  if (!text.ok()) return text.status().WithContext("configuration");
  return ParseConfig(*text, path);
}

Result<std::shared_ptr<const ResourceStore>> LoadResources(const Config& config) {
  auto store = std::make_shared<ResourceStore>();
  CVM_RETURN_IF_ERROR(store->LoadDirectory(config.resource_dir, config.resource_limits));
  for (const auto& [path, value] : config.inline_resources) {
    Bytes copy(value->view().begin(), value->view().end());
    Status added = store->Add(path, SecretBytes(std::move(copy)));
    if (!added.ok()) return added.WithContext(config.file + ": resources.inline");
  }
  return std::shared_ptr<const ResourceStore>(std::move(store));
}

HttpServerOptions ServerOptionsFor(const Config& c) {
  HttpServerOptions o;
  o.listeners = c.listen;
  o.tls_cert_file = c.tls_cert;
  o.tls_key_file = c.tls_key;
  o.threads = c.threads;
  o.max_body = c.max_body;
  o.max_header = c.max_header;
  o.read_timeout = c.read_timeout;
  o.max_connections = c.max_connections;
  return o;
}

Result<std::vector<Certificate>> LoadCertificates(const std::vector<std::string>& files) {
  std::vector<Certificate> out;
  for (const auto& f : files) {
    auto data = ReadFile(f, 1 << 20);
    if (!data.ok()) return data.status().WithContext("trust anchor");
    auto certs = ParseCertificates(*data);
    if (!certs.ok()) return certs.status().WithContext("trust anchor " + f);
    for (auto& c : *certs) out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<Crl>> LoadCrls(const std::vector<std::string>& files) {
  std::vector<Crl> out;
  for (const auto& f : files) {
    auto data = ReadFile(f, 16 << 20);
    if (!data.ok()) return data.status().WithContext("CRL");
    auto crl = Crl::Parse(*data);
    if (!crl.ok()) return crl.status().WithContext("CRL " + f);
    out.push_back(std::move(crl).value());
  }
  return out;
}

Result<ossl::PKey> LoadOrCreateTokenKey(const std::string& path, bool create, bool* created) {
  *created = false;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) {
    if (!create) return NotFound("token key " + path + " does not exist (it would be generated)");
    CVM_ASSIGN_OR_RETURN(ossl::PKey key, GenerateEcKey(Curve::kP256));
    auto pem = PrivateKeyToPem(key.get());
    if (!pem.ok()) return pem.status();
    // SecretBytes wipes the PEM when it goes.
    CVM_RETURN_IF_ERROR(WriteFileAtomic(path, pem->view(), 0600).WithContext("token key"));
    *created = true;
    return key;
  }
  auto pem = ReadTextFile(path, 64 << 10);
  if (!pem.ok()) return pem.status().WithContext("token key");
  auto key = PrivateKeyFromPem(*pem);
  OPENSSL_cleanse(pem->data(), pem->size());
  if (!key.ok()) return key.status().WithContext("token key " + path);
  auto curve = EcKeyCurve(key->get());
  if (!curve.ok() || *curve != Curve::kP256) {
    return InvalidInput("token key " + path + ": not an EC P-256 key (ES256 needs one)");
  }
  return key;
}

}  // namespace cvm::rp
