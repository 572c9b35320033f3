// cvmctl kbs attest|get-resource: the KBS client alone, for scripts and debugging (the way
// Trustee's trustee-attester is used). Options are parsed here; the protocol, the binding and
// every check live in evidence::KbsClient.
#include <cstdio>
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
#include "evidence/jose.h"
#include "evidence/kbs.h"
#include "evidence/kbs_client.h"
#include "evidence/trustee.h"
#include "snp/certs_table.h"
#include "snp/provider.h"
#include "snp/report.h"
#include "snp/sim.h"

namespace cvm::cli {
namespace {

using nlohmann::ordered_json;

ordered_json IntArray(ByteSpan a) {
  ordered_json out = ordered_json::array();
  for (uint8_t b : a) out.push_back(b);
  return out;
}

std::string_view SevCertType(snp::CertKind kind) {
  switch (kind) {
    case snp::CertKind::kArk:
      return "ARK";
    case snp::CertKind::kAsk:
      return "ASK";
    case snp::CertKind::kVcek:
      return "VCEK";
    case snp::CertKind::kVlek:
      return "VLEK";
    case snp::CertKind::kCrl:
      return "CRL";
    case snp::CertKind::kOther:
      break;
  }
  return "";
}

// Trustee's "snp" primary evidence (kbs-protocol.md section c): {"attestation_report": <the sev
// crate's serde JSON of the report>, "cert_chain": [{"cert_type","data"}]}.
//
// LOCAL STAND-IN: when the evidence library's Collect()/ToTrusteeEvidence (evidence/trustee.h,
// written in parallel) is merged, the two callers below should use it instead and this function
// goes away.
Result<ordered_json> SnpTrusteeEvidence(ByteSpan raw_report,
                                        const std::vector<snp::CertTableEntry>& certs) {
  // The report in the sev crate's serde shape: one codec, evidence/trustee.h's.
  CVM_ASSIGN_OR_RETURN(ordered_json rep, evidence::SnpReportToSevJson(raw_report));
  ordered_json chain = ordered_json::array();
  for (const auto& cert : certs) {
    ordered_json type = cert.kind == snp::CertKind::kOther
                            ? ordered_json{{"OTHER", snp::GuidToString(cert.guid)}}
                            : ordered_json(SevCertType(cert.kind));
    chain.push_back({{"cert_type", type}, {"data", IntArray(cert.data)}});
  }
  ordered_json out;
  out["attestation_report"] = std::move(rep);
  out["cert_chain"] = chain.empty() ? ordered_json(nullptr) : chain;
  return out;
}

std::array<uint8_t, 64> ReportData(const evidence::KbsChallenge& challenge,
                                   const nlohmann::json& jwk, DigestAlg hash, Status* status) {
  std::array<uint8_t, 64> out{};
  auto digest = evidence::RuntimeDataDigest(hash, challenge.nonce, jwk, "");
  if (!digest.ok()) {
    *status = digest.status();
    return out;
  }
  Bytes padded = evidence::PadReportData(*digest);
  std::copy(padded.begin(), padded.end(), out.begin());
  return out;
}

// The evidence provider for --tee: sim-snp (a simulator state directory) or snp (this guest's
// SEV-SNP firmware through configfs-tsm or /dev/sev-guest).
Result<evidence::KbsEvidenceProvider> MakeProvider(const std::string& tee,
                                                   const std::string& sim_dir) {
  if (tee == "sim-snp") {
    if (sim_dir.empty()) return InvalidInput("--tee sim-snp needs --sim DIR");
    CVM_ASSIGN_OR_RETURN(snp::SimSnp sim, snp::SimSnp::Load(sim_dir));
    auto shared = std::make_shared<snp::SimSnp>(std::move(sim));
    return evidence::KbsEvidenceProvider([shared](const evidence::KbsChallenge& c,
                                                  const nlohmann::json& jwk,
                                                  DigestAlg hash) -> Result<evidence::KbsEvidence> {
      Status st;
      snp::SimReportRequest request;
      request.report_data = ReportData(c, jwk, hash, &st);
      CVM_RETURN_IF_ERROR(st);
      CVM_ASSIGN_OR_RETURN(Bytes report, shared->MakeReport(request));
      snp::CertTableEntry vcek;
      vcek.kind = snp::CertKind::kVcek;
      vcek.guid = snp::CertKindGuid(snp::CertKind::kVcek);
      vcek.data = shared->vcek().Der();
      CVM_ASSIGN_OR_RETURN(ordered_json primary, SnpTrusteeEvidence(report, {vcek}));
      evidence::KbsEvidence ev;
      ev.primary_evidence = nlohmann::json::parse(primary.dump());
      return ev;
    });
  }
  if (!sim_dir.empty()) return InvalidInput("--sim applies only to --tee sim-snp");
  if (tee == "snp") {
    CVM_ASSIGN_OR_RETURN(std::unique_ptr<snp::ReportProvider> provider,
                         snp::NewReportProvider(RealTsmFs(), snp::RealSevGuestSys()));
    std::shared_ptr<snp::ReportProvider> shared(std::move(provider));
    return evidence::KbsEvidenceProvider([shared](const evidence::KbsChallenge& c,
                                                  const nlohmann::json& jwk,
                                                  DigestAlg hash) -> Result<evidence::KbsEvidence> {
      Status st;
      auto report_data = ReportData(c, jwk, hash, &st);
      CVM_RETURN_IF_ERROR(st);
      CVM_ASSIGN_OR_RETURN(snp::SnpEvidence snp_ev, shared->GetReport(report_data, 0));
      CVM_ASSIGN_OR_RETURN(ordered_json primary, SnpTrusteeEvidence(snp_ev.report, snp_ev.certs));
      evidence::KbsEvidence ev;
      ev.primary_evidence = nlohmann::json::parse(primary.dump());
      return ev;
    });
  }
  return InvalidInput("--tee " + tee + ": this cvmctl collects evidence for sim-snp and snp only");
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
  p.Option("tee", 0, "KIND", "evidence source: sim-snp (default) or snp", &o->tee);
  p.Option("sim", 0, "DIR", "simulator state directory (cvmctl sim init) for sim-snp", &o->sim);
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
  options.tee = evidence::TeeKind::kSnp;  // both sources produce Trustee's "snp" evidence
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
  auto provider = MakeProvider(o.tee, o.sim);
  if (!provider.ok()) return Fail(provider.status());
  auto http = NewCurlHttpClient();
  evidence::KbsClient client(*http, std::move(options), std::move(provider).value());
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
  if (args.empty()) {
    std::fputs(usage, stderr);
    return kExitUsage;
  }
  if (args[0] == "--help" || args[0] == "-h") {
    std::fputs(usage, stdout);
    return kExitOk;
  }
  if (args[0] == "attest") return Attest(args.subspan(1));
  if (args[0] == "get-resource") return GetResource(args.subspan(1));
  std::fprintf(stderr, "cvmctl: unknown kbs verb '%s'\n%s", args[0].c_str(), usage);
  return kExitUsage;
}

}  // namespace cvm::cli
