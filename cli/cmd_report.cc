// cvmctl report show / cvmctl verify: detect the kind of evidence and hand it to its TEE.
#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>

#include "cli/output.h"
#include "cli/report_get.h"
#include "cli/tee_commands.h"
#include "common/args.h"
#include "common/file_util.h"

namespace cvm::cli {

EvidenceKind DetectEvidence(ByteSpan data) {
  // Azure HCL report: "HCLA" magic.
  if (data.size() >= 4 && AsChars(data.first(4)) == "HCLA") return EvidenceKind::kAzureHcl;
  // DCAP quote: version 4 or 5, attestation key type 2 (ECDSA-256), TEE type 0x81 (TDX).
  if (data.size() >= 48) {
    uint16_t version = LoadLe16(data, 0);
    if ((version == 4 || version == 5) && LoadLe16(data, 2) == 2 && LoadLe32(data, 4) == 0x81) {
      return EvidenceKind::kTdxQuote;
    }
  }
  // TDREPORT: REPORTTYPE.type 0x81 (TDX), subtype 0.
  if (data.size() == 1024 && data[0] == 0x81 && data[1] == 0) return EvidenceKind::kTdReport;
  // SNP ATTESTATION_REPORT: a small version number and the only signature algorithm defined.
  if (data.size() >= 0x38) {
    uint32_t version = LoadLe32(data, 0);
    if (version >= 1 && version <= 16 && LoadLe32(data, 0x34) == 1) return EvidenceKind::kSnpReport;
  }
  return EvidenceKind::kUnknown;
}

namespace {

constexpr const char* kUnknownEvidence =
    "not a recognised evidence format (expected a raw SNP attestation report, a TDX quote or "
    "TDREPORT, or an Azure HCL report)";

}  // namespace

int RunReport(Args args) {
  static constexpr const char* kUsage =
      "Usage: cvmctl report show FILE [--json]\n"
      "       cvmctl report get --report-data HEX [-o FILE] [--certs FILE]   (inside a guest)\n";
  if (!args.empty() && args[0] == "get") {
    return ReportGet(args.subspan(1), RealTsmFs(), snp::RealSevGuestSys());
  }
  if (args.empty() || args[0] != "show") {
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
      std::fputs(kUsage, stdout);
      return kExitOk;
    }
    std::fprintf(stderr, "cvmctl: usage:\n%s", kUsage);
    return kExitUsage;
  }
  ShowOptions options;
  std::vector<std::string> files;
  ArgParser parser("cvmctl report show", "FILE [--json]",
                   "Decodes evidence: an SNP attestation report, a TDX quote or TDREPORT, or an\n"
                   "Azure HCL report (detected from the bytes). FILE '-' reads stdin.");
  parser.Flag("json", 0, "print one JSON object (ABI field names in snake_case)", &options.json);
  parser.Positionals("FILE", 1, 1, &files);
  if (auto code = parser.Parse(args.subspan(1))) return *code;
  auto data = ReadInput(files[0]);
  if (!data.ok()) return Fail(data.status());
  switch (DetectEvidence(*data)) {
    case EvidenceKind::kSnpReport:
      return ShowSnpReport(*data, options);
    case EvidenceKind::kTdxQuote:
      return ShowTdxQuote(*data, options);
    case EvidenceKind::kTdReport:
      return ShowTdReport(*data, options);
    case EvidenceKind::kAzureHcl:
      return ShowAzureHcl(*data, options);
    case EvidenceKind::kUnknown:
      break;
  }
  return Fail(InvalidInput(files[0] + ": " + kUnknownEvidence));
}

namespace {

const char* KindName(EvidenceKind kind) {
  switch (kind) {
    case EvidenceKind::kSnpReport:
      return "an SNP report";
    case EvidenceKind::kTdxQuote:
      return "a TDX quote";
    case EvidenceKind::kTdReport:
      return "a TDREPORT";
    case EvidenceKind::kAzureHcl:
      return "an Azure HCL report";
    case EvidenceKind::kUnknown:
      break;
  }
  return "unknown evidence";
}

const char* TeeOf(EvidenceKind kind) {
  switch (kind) {
    case EvidenceKind::kSnpReport:
      return "snp";
    case EvidenceKind::kTdxQuote:
    case EvidenceKind::kTdReport:
      return "tdx";
    case EvidenceKind::kAzureHcl:
      return "az-snp-vtpm";
    case EvidenceKind::kUnknown:
      break;
  }
  return "";
}

}  // namespace

Status CheckVerifyOptions(EvidenceKind kind, const VerifyOptions& o) {
  const bool snp = kind == EvidenceKind::kSnpReport;
  const bool tdx = kind == EvidenceKind::kTdxQuote;
  const bool azure = kind == EvidenceKind::kAzureHcl;
  struct Rule {
    bool given;
    bool applies;
    const char* option;
    const char* what;
  };
  const Rule rules[] = {
      {!o.certs.empty(), snp || azure, "--cert",
       "SNP and Azure HCL reports; a TDX quote carries its PCK chain"},
      {!o.product.empty(), snp || azure, "--product", "SNP and Azure HCL reports"},
      {!o.collateral.empty(), tdx, "--collateral", "TDX quotes"},
      {o.no_collateral, tdx, "--no-collateral", "TDX quotes"},
      {!o.tpm_quote.empty(), azure, "--tpm-quote", "Azure HCL reports"},
      {!o.nonce.empty(), azure, "--nonce", "Azure HCL reports with --tpm-quote"},
  };
  for (const Rule& r : rules) {
    if (r.given && !r.applies) {
      return InvalidInput(std::string(r.option) + " does not apply to " + KindName(kind) +
                          " (it is for " + r.what + ")");
    }
  }
  if (tdx && o.no_collateral && (!o.collateral.empty() || o.fetch)) {
    return InvalidInput("--no-collateral contradicts --collateral and --fetch: choose one");
  }
  return Status::Ok();
}

int RunVerify(Args args) {
  // Bundles, Trustee tee-evidence and HCL + --td-quote go through evidence::VerifyBundle.
  if (auto code = VerifyBundleHook(args)) return *code;
  VerifyOptions options;
  std::vector<std::string> files;
  std::string at;
  ArgParser parser(
      "cvmctl verify", "FILE [options]",
      "Appraises evidence offline: an SNP report, a TDX quote or an Azure HCL report\n"
      "(detected from the bytes). Verification (signatures, certificate chain to a\n"
      "trusted root, revocation, TCB) then validation against expected values. By\n"
      "default a DEBUG guest or TD and an SNP migration agent are refused, a TDX quote\n"
      "needs collateral, and an option that does not apply to the evidence is refused.\n"
      "An evidence bundle (cvmctl evidence, GET /v1/evidence) or Trustee tee-evidence\n"
      "JSON is verified as a whole: there --nonce N is the nonce its runtime data must\n"
      "carry, --tee KIND names the TEE of tee-evidence, --signature-only replaces\n"
      "--no-collateral; an Azure TDX HCL report takes --td-quote FILE (docs/cli.md).\n"
      "Exit 0 verified, 1 rejected, 2 unusable input, 3 unavailable.");
  parser.Repeated("cert", "FILE",
                  "SNP/Azure: VCEK/VLEK and chain, PEM, DER or a host certificate table",
                  &options.certs);
  parser.Repeated("root", "FILE", "trust anchors replacing the built-in AMD/Intel roots",
                  &options.roots);
  parser.Repeated("crl", "FILE", "CRL (PEM or DER) the chain is checked against", &options.crls);
  parser.Option("product", 0, "NAME",
                "SNP/Azure: the product expected (Milan, Genoa, Turin); a report that says "
                "otherwise is rejected",
                &options.product);
  parser.Option("at", 0, "TIME", "evaluate validity at TIME (RFC 3339 or Unix seconds)", &at);
  parser.Option("policy", 0, "FILE", "expected values to validate against (YAML)", &options.policy);
  parser.Option("collateral", 0, "FILE", "TDX: collateral in PCCS JSON form", &options.collateral);
  parser.Flag("no-collateral", 0,
              "TDX: accept a signature-only check (TCB status and revocation not evaluated)",
              &options.no_collateral);
  parser.Option("tpm-quote", 0, "FILE", "Azure: TPM quote JSON to check against the HCL AK",
                &options.tpm_quote);
  parser.Option("nonce", 0, "HEX", "Azure: the nonce the --tpm-quote must carry", &options.nonce);
  parser.Flag("allow-debug", 0, "accept a DEBUG guest or TD (forensics only)",
              &options.allow_debug);
  parser.Flag("fetch", 0, "fetch certificates (AMD KDS) or collateral (Intel PCS)", &options.fetch);
  parser.Flag("json", 0, "print every outcome as one JSON object on stdout", &options.json);
  parser.Positionals("FILE", 1, 1, &files);
  if (auto code = parser.Parse(args)) return *code;
  std::optional<FixedClock> fixed;
  if (!at.empty()) {
    auto t = ParseTime(at);
    if (!t.ok()) return PrintVerifyError(t.status().WithContext("--at"), "", options.json);
    fixed.emplace(*t);
    options.clock = &*fixed;
  }
  auto data = ReadInput(files[0]);
  if (!data.ok()) return PrintVerifyError(data.status(), "", options.json);
  EvidenceKind kind = DetectEvidence(*data);
  if (kind == EvidenceKind::kUnknown) {
    return PrintVerifyError(InvalidInput(files[0] + ": " + kUnknownEvidence), "", options.json);
  }
  if (kind == EvidenceKind::kTdReport) {
    return PrintVerifyError(
        InvalidInput(files[0] +
                     ": a TDREPORT is MAC'ed, not signed: it can only be checked on the platform "
                     "that produced it; verify a quote instead"),
        "tdx", options.json);
  }
  if (Status st = CheckVerifyOptions(kind, options); !st.ok()) {
    return PrintVerifyError(st, TeeOf(kind), options.json);
  }
  switch (kind) {
    case EvidenceKind::kSnpReport:
      return VerifySnpReport(*data, options);
    case EvidenceKind::kTdxQuote:
      return VerifyTdxQuote(*data, options);
    case EvidenceKind::kAzureHcl:
      return VerifyAzureHcl(*data, options);
    case EvidenceKind::kTdReport:
    case EvidenceKind::kUnknown:
      break;
  }
  return PrintVerifyError(Internal("unhandled kind of evidence"), "", options.json);
}

int RunSim(Args args) {
  static constexpr const char* kUsage =
      "Usage: cvmctl sim init DIR --tee snp|tdx [options]\n"
      "       cvmctl sim report DIR --report-data HEX [--measurement HEX] [-o FILE]   (SNP)\n"
      "       cvmctl sim quote DIR --report-data HEX [-o FILE]                        (TDX)\n"
      "       cvmctl sim collateral DIR -o FILE                                       (TDX)\n";
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? kExitUsage : kExitOk;
  }
  std::string_view verb = args[0];
  Args rest = args.subspan(1);
  if (verb == "report") return RunSimSnp(verb, rest);
  if (verb == "quote" || verb == "collateral") return RunSimTdx(verb, rest);
  if (verb == "init") {
    // The TEE decides which simulator parses the remaining options.
    std::string tee;
    for (size_t i = 0; i < rest.size(); ++i) {
      if (rest[i] == "--tee" && i + 1 < rest.size()) tee = rest[i + 1];
      if (rest[i].rfind("--tee=", 0) == 0) tee = rest[i].substr(6);
      if (rest[i] == "--help" || rest[i] == "-h") tee = tee.empty() ? "help" : tee;
    }
    if (tee == "snp") return RunSimSnp(verb, rest);
    if (tee == "tdx") return RunSimTdx(verb, rest);
    if (tee == "help") {
      // Without --tee, the options of both simulators.
      const std::vector<std::string> help = {"--help"};
      int snp = RunSimSnp(verb, help);
      std::fputs("\n", stdout);
      int tdx = RunSimTdx(verb, help);
      return snp != kExitOk ? snp : tdx;
    }
    std::fprintf(stderr, "cvmctl: sim init needs --tee snp or --tee tdx\n");
    return kExitUsage;
  }
  std::fprintf(stderr, "cvmctl: unknown sim command '%s'\n%s", args[0].c_str(), kUsage);
  return kExitUsage;
}

Status RefuseExistingDir(const std::string& dir, bool force) {
  struct stat st {};
  if (force || ::stat(dir.c_str(), &st) != 0) return Status::Ok();
  if (!S_ISDIR(st.st_mode)) return InvalidInput(dir + ": exists and is not a directory");
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoStatus(errno, "open " + dir);
  bool empty = true;
  while (const dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  if (empty) return Status::Ok();
  return InvalidInput(dir +
                      ": already exists and is not empty; refusing to overwrite a simulated "
                      "platform's keys (give --force to replace it)");
}

}  // namespace cvm::cli
