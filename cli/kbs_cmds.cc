// cvmctl kbs attest|get-resource: the KBS client alone, for scripts and debugging (the way
// Trustee's trustee-attester is used). Options are parsed here; the protocol, the binding and
// every check live in evidence::KbsClient.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/output.h"
#include "common/args.h"
#include "common/file_util.h"
#include "common/http.h"
#include "common/keys.h"
#include "common/tsm.h"
#include "evidence/collect.h"
#include "evidence/jose.h"
#include "evidence/kbs.h"
#include "evidence/kbs_client.h"
#include "evidence/trustee.h"
#include "snp/provider.h"
#include "tdx/provider.h"
#include "tpm/tpm.h"

namespace cvm::cli {
namespace {

// The platform's evidence sources for one kind, kept alive as long as the client uses them.
struct EvidenceSources {
  evidence::CollectKind kind = evidence::CollectKind::kSimSnp;
  std::string sim_dir;
  std::unique_ptr<snp::ReportProvider> snp;
  std::unique_ptr<tdx::QuoteProvider> tdx;
  std::unique_ptr<tpm::Tpm> tpm;
  std::unique_ptr<HttpClient> imds;
  evidence::CollectPlatform platform;
};

// The TEE kind the relying party is told about (/auth "tee") for a collection kind.
evidence::TeeKind WireKind(evidence::CollectKind kind) {
  switch (kind) {
    case evidence::CollectKind::kSnp:
    case evidence::CollectKind::kSimSnp:
      return evidence::TeeKind::kSnp;
    case evidence::CollectKind::kTdx:
    case evidence::CollectKind::kSimTdx:
      return evidence::TeeKind::kTdx;
    case evidence::CollectKind::kAzSnpVtpm:
      return evidence::TeeKind::kAzSnpVtpm;
    case evidence::CollectKind::kAzTdxVtpm:
      return evidence::TeeKind::kAzTdxVtpm;
  }
  return evidence::TeeKind::kSnp;
}

// Opens what --tee needs: a simulator state directory (sim-snp, sim-tdx), this guest's SEV-SNP
// firmware (configfs-tsm or /dev/sev-guest), its TDX quote provider (configfs-tsm), or the Azure
// vTPM and IMDS (az-snp-vtpm, az-tdx-vtpm).
Result<std::shared_ptr<EvidenceSources>> OpenSources(const std::string& tee,
                                                     const std::string& sim_dir) {
  CVM_ASSIGN_OR_RETURN(evidence::CollectKind kind, evidence::ParseCollectKind(tee));
  const bool simulated =
      kind == evidence::CollectKind::kSimSnp || kind == evidence::CollectKind::kSimTdx;
  if (simulated && sim_dir.empty()) return InvalidInput("--tee " + tee + " needs --sim DIR");
  if (!simulated && !sim_dir.empty()) {
    return InvalidInput("--sim applies only to --tee sim-snp and sim-tdx");
  }
  auto s = std::make_shared<EvidenceSources>();
  s->kind = kind;
  s->sim_dir = sim_dir;
  switch (kind) {
    case evidence::CollectKind::kSimSnp:
    case evidence::CollectKind::kSimTdx:
      break;
    case evidence::CollectKind::kSnp: {
      CVM_ASSIGN_OR_RETURN(s->snp, snp::NewReportProvider(RealTsmFs(), snp::RealSevGuestSys()));
      s->platform.snp = s->snp.get();
      break;
    }
    case evidence::CollectKind::kTdx: {
      CVM_ASSIGN_OR_RETURN(s->tdx, tdx::NewQuoteProvider(RealTsmFs()));
      s->platform.tdx = s->tdx.get();
      break;
    }
    case evidence::CollectKind::kAzSnpVtpm:
    case evidence::CollectKind::kAzTdxVtpm: {
      CVM_ASSIGN_OR_RETURN(s->tpm, tpm::OpenTpm());
      s->platform.tpm = s->tpm.get();
      s->imds = NewCurlHttpClient();
      s->platform.imds = s->imds.get();
      break;
    }
  }
  return s;
}

// Evidence for a challenge through evidence::Collect (what the agent uses), in Trustee's
// tee-evidence shape (evidence::ToTrusteeEvidence).
evidence::KbsEvidenceProvider MakeProvider(std::shared_ptr<EvidenceSources> sources) {
  return [sources](const evidence::KbsChallenge& challenge, const nlohmann::json& jwk,
                   DigestAlg hash) -> Result<evidence::KbsEvidence> {
    evidence::CollectRequest request;
    request.kind = sources->kind;
    request.nonce = challenge.nonce;
    request.tee_pubkey = jwk;
    request.hash = hash;
    request.sim_dir = sources->sim_dir;
    CVM_ASSIGN_OR_RETURN(evidence::Bundle bundle, evidence::Collect(request, sources->platform));
    CVM_ASSIGN_OR_RETURN(evidence::TrusteeEvidence trustee, evidence::ToTrusteeEvidence(bundle));
    evidence::KbsEvidence out;
    out.primary_evidence = std::move(trustee.primary);
    out.additional_evidence = std::move(trustee.additional);
    return out;
  };
}

struct CommonOptions {
  std::vector<std::string> urls;
  std::string tee = "sim-snp";
  std::string sim;
  std::string ca_file;
  std::string pin;
  std::string proxy;
  bool no_proxy = false;
  std::string token_key;
  std::string key_type = "p256";
};

void AddCommon(ArgParser& p, CommonOptions* o) {
  p.Repeated("url", "URL", "relying party base URL (repeat to fail over in order)", &o->urls);
  p.Option("tee", 0, "KIND",
           "evidence source: sim-snp (default), sim-tdx, snp, tdx, az-snp-vtpm or az-tdx-vtpm",
           &o->tee);
  p.Option("sim", 0, "DIR", "simulator state directory (cvmctl sim init) for sim-snp/sim-tdx",
           &o->sim);
  p.Option("ca-file", 0, "PEM", "CA certificates to trust for https instead of the system's",
           &o->ca_file);
  p.Option("pin-sha256", 0, "B64",
           "base64 SHA-256 of the server's SubjectPublicKeyInfo (';' separates several)", &o->pin);
  p.Option("proxy", 0, "URL", "HTTP(S) proxy for the relying parties", &o->proxy);
  p.Flag("no-proxy", 0, "no proxy, whatever http(s)_proxy says", &o->no_proxy);
  p.Option("token-key", 0, "PEM",
           "the relying party's token public key: verify the token's ES256 signature",
           &o->token_key);
  p.Option("key", 0, "TYPE", "ephemeral TEE key: p256 (default), p521 or rsa2048", &o->key_type);
}

// Runs `fn` with a client built from `o`; errors are printed and mapped to exit codes.
template <typename Fn>
int WithClient(const CommonOptions& o, Fn fn) {
  if (o.urls.empty()) return Fail(InvalidInput("--url is required"));
  if (o.no_proxy && !o.proxy.empty()) {
    return Fail(InvalidInput("--proxy and --no-proxy exclude each other"));
  }
  for (const auto& u : o.urls) {
    bool https = u.rfind("https://", 0) == 0;
    if (!https && u.rfind("http://", 0) != 0) {
      return Fail(InvalidInput("--url " + u + ": must start with http:// or https://"));
    }
    if (!https && (!o.ca_file.empty() || !o.pin.empty())) {
      return Fail(
          InvalidInput("--ca-file and --pin-sha256 apply to https:// URLs only (" + u + ")"));
    }
  }
  if (!o.pin.empty()) {
    if (auto pins = PinnedPublicKeyOption(o.pin); !pins.ok()) return Fail(pins.status());
  }
  evidence::KbsClientOptions options;
  for (const auto& u : o.urls) {
    evidence::KbsEndpoint e{u, o.ca_file, o.pin, std::nullopt};
    if (o.no_proxy) e.proxy = "";
    if (!o.proxy.empty()) e.proxy = o.proxy;
    options.endpoints.push_back(std::move(e));
  }
  if (o.key_type == "p256") {
    options.key_type = evidence::TeeKeyType::kEcP256;
  } else if (o.key_type == "p521") {
    options.key_type = evidence::TeeKeyType::kEcP521;
  } else if (o.key_type == "rsa2048") {
    options.key_type = evidence::TeeKeyType::kRsa2048;
  } else {
    return Fail(InvalidInput("--key " + o.key_type + ": expected p256, p521 or rsa2048"));
  }
  ossl::PKey token_key;
  if (!o.token_key.empty()) {
    auto pem = ReadTextFile(o.token_key);
    if (!pem.ok()) return Fail(pem.status());
    auto key = PublicKeyFromPem(*pem);
    if (!key.ok()) return Fail(key.status().WithContext(o.token_key));
    token_key = std::move(key).value();
    options.token_key = token_key.get();
  }
  auto sources = OpenSources(o.tee, o.sim);
  if (!sources.ok()) return Fail(sources.status());
  options.tee = WireKind((*sources)->kind);
  auto http = NewCurlHttpClient();
  evidence::KbsClient client(*http, std::move(options), MakeProvider(std::move(sources).value()));
  return fn(client);
}

int Attest(Args args) {
  CommonOptions o;
  ArgParser p("cvmctl", "kbs attest --url URL [--url URL2 ...] [options]",
              "Runs the KBS attestation handshake (RCAR 0.4.0) and prints the token.");
  AddCommon(p, &o);
  if (auto rc = p.Parse(args)) return *rc;
  return WithClient(o, [](evidence::KbsClient& client) {
    auto token = client.Attest();
    if (!token.ok()) return Fail(token.status());
    std::printf("%s\n", token->token.c_str());
    return static_cast<int>(kExitOk);
  });
}

int GetResource(Args args) {
  CommonOptions o;
  std::string path;
  std::string out;
  ArgParser p("cvmctl", "kbs get-resource --url URL --path REPO/TYPE/TAG [-o FILE] [options]",
              "Attests, then fetches and decrypts one resource (to stdout, or FILE with mode "
              "0600).");
  AddCommon(p, &o);
  p.Option("path", 0, "REPO/TYPE/TAG", "the resource", &path);
  p.Option("output", 'o', "FILE", "write the resource here (atomically, mode 0600)", &out);
  if (auto rc = p.Parse(args)) return *rc;
  if (auto st = evidence::ValidateResourcePath(path); !st.ok()) return Fail(st);
  return WithClient(o, [&](evidence::KbsClient& client) {
    auto secret = client.GetResource(path);
    if (!secret.ok()) return Fail(secret.status());
    if (out.empty() || out == "-") {
      if (std::fwrite(secret->view().data(), 1, secret->size(), stdout) != secret->size() ||
          std::fflush(stdout) != 0) {
        return Fail(IoError("writing the resource to stdout failed"));
      }
      return static_cast<int>(kExitOk);
    }
    if (auto st = WriteFileAtomic(out, secret->view(), 0600); !st.ok()) return Fail(st);
    return static_cast<int>(kExitOk);
  });
}

}  // namespace

int RunKbs(Args args) {
  const char* usage =
      "Usage: cvmctl kbs attest|get-resource [options]\n"
      "  attest         run the KBS handshake and print the attestation token\n"
      "  get-resource   attest, then fetch and decrypt REPO/TYPE/TAG\n"
      "Run 'cvmctl kbs VERB --help' for the options.\n";
  return RunVerbs(args, "kbs", usage, {{"attest", Attest}, {"get-resource", GetResource}});
}

}  // namespace cvm::cli
