// cvmctl report show / cvmctl verify: detect the kind of evidence and hand it to its TEE.
#include <cstdio>

#include "cli/output.h"
#include "cli/tee_commands.h"
#include "common/args.h"

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
  if (args.empty() || args[0] != "show") {
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
      std::puts("Usage: cvmctl report show FILE [--json]");
      return kExitOk;
    }
    std::fputs("cvmctl: usage: cvmctl report show FILE [--json]\n", stderr);
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

int RunVerify(Args args) {
  // Bundles, Trustee tee-evidence and HCL + --td-quote go through evidence::VerifyBundle.
  if (auto code = VerifyBundleHook(args)) return *code;
  VerifyOptions options;
  std::vector<std::string> files;
  std::string at;
  ArgParser parser("cvmctl verify", "FILE [options]",
                   "Verifies evidence offline: signatures, certificate chain to a trusted root,\n"
                   "TCB and, with --policy, expected values. Exit 0 verified, 1 rejected,\n"
                   "2 unusable input.");
  parser.Repeated("cert", "FILE", "leaf/intermediate certificates, PEM (one or more) or DER",
                  &options.certs);
  parser.Repeated("root", "FILE", "trust anchors replacing the built-in AMD/Intel roots",
                  &options.roots);
  parser.Repeated("crl", "FILE", "CRL (PEM or DER) to check the chain against", &options.crls);
  parser.Option("product", 0, "NAME", "SNP: Milan, Genoa or Turin, for reports that do not say",
                &options.product);
  parser.Option("at", 0, "TIME", "evaluate validity at TIME (RFC 3339 or Unix seconds)", &at);
  parser.Option("policy", 0, "FILE", "expected values to validate against (YAML)", &options.policy);
  parser.Option("collateral", 0, "FILE", "TDX collateral in PCCS JSON form", &options.collateral);
  parser.Option("tpm-quote", 0, "FILE", "Azure: TPM quote JSON to check against the HCL AK",
                &options.tpm_quote);
  parser.Option("nonce", 0, "HEX", "Azure: the nonce the --tpm-quote must carry", &options.nonce);
  parser.Flag("fetch", 0, "allow fetching certificates from AMD KDS / Intel PCS", &options.fetch);
  parser.Flag("json", 0, "print the result as JSON", &options.json);
  parser.Positionals("FILE", 1, 1, &files);
  if (auto code = parser.Parse(args)) return *code;
  if (!at.empty()) {
    auto t = ParseTime(at);
    if (!t.ok()) return Fail(t.status().WithContext("--at"));
    options.at = *t;
  }
  auto data = ReadInput(files[0]);
  if (!data.ok()) return Fail(data.status());
  switch (DetectEvidence(*data)) {
    case EvidenceKind::kSnpReport:
      return VerifySnpReport(*data, options);
    case EvidenceKind::kTdxQuote:
      return VerifyTdxQuote(*data, options);
    case EvidenceKind::kAzureHcl:
      return VerifyAzureHcl(*data, options);
    case EvidenceKind::kTdReport:
      return Fail(InvalidInput(files[0] +
                               ": a TDREPORT is MAC'ed, not signed: it can only be "
                               "checked on the platform that produced it; verify a quote instead"));
    case EvidenceKind::kUnknown:
      break;
  }
  return Fail(InvalidInput(files[0] + ": " + kUnknownEvidence));
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
      std::fputs(kUsage, stdout);
      return kExitOk;
    }
    std::fprintf(stderr, "cvmctl: sim init needs --tee snp or --tee tdx\n");
    return kExitUsage;
  }
  std::fprintf(stderr, "cvmctl: unknown sim command '%s'\n%s", args[0].c_str(), kUsage);
  return kExitUsage;
}

}  // namespace cvm::cli
