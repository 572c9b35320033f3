// cvmctl verbs for the vTPM: quotes, PCRs, event logs, Azure HCL reports.
//
//   cvmctl tpm quote --nonce HEX [--pcrs SEL] [--tcti STR] [--ak-handle H] [--ak-alg ecc|rsa]
//                    --out-dir DIR
//   cvmctl tpm pcrs [--pcrs SEL] [--tcti STR]
//   cvmctl tpm verify DIR --nonce HEX [--eventlog FILE] [--expected-pcrs FILE] [--json]
//   cvmctl tpm hcl-report -o FILE [--user-data HEX] [--tcti STR]
//   cvmctl eventlog replay FILE [--ccel] [--json]
//   cvmctl report show HCL / cvmctl verify HCL (ShowAzureHcl, VerifyAzureHcl)
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/output.h"
#include "cli/tee_commands.h"
#include "common/args.h"
#include "common/encoding.h"
#include "common/file_util.h"
#include "common/keys.h"
#include "common/tcg_eventlog.h"
#include "common/x509.h"
#include "snp/policy.h"
#include "snp/report_json.h"
#include "snp/validate.h"
#include "snp/verify.h"
#include "tpm/attest.h"
#include "tpm/eventlog.h"
#include "tpm/hcl.h"
#include "tpm/pcr.h"
#include "tpm/tpm.h"

namespace cvm::cli {
namespace {

using Json = nlohmann::ordered_json;

// Quote files, as tpm2_checkquote reads them (-u ak.pub.pem -m quote.msg -s quote.sig).
constexpr const char* kAkPem = "ak.pub.pem";
constexpr const char* kAkPublic = "ak.pub";  // TPM2B_PUBLIC (tpm2-tools "tss" format)
constexpr const char* kAkName = "ak.name";
constexpr const char* kQuoteMsg = "quote.msg";
constexpr const char* kQuoteSig = "quote.sig";
constexpr const char* kPcrsJson = "pcrs.json";
constexpr const char* kEkCert = "ek.crt";
constexpr const char* kAkCert = "ak.crt";

std::string TctiOrDefault(const std::string& tcti) {
  return tcti.empty() ? tpm::kDefaultTcti : tcti;
}

Result<uint32_t> ParseHandle(const std::string& text) {
  size_t end = 0;
  unsigned long v = 0;  // NOLINT(google-runtime-int): std::stoul's type
  try {
    v = std::stoul(text, &end, 0);
  } catch (...) {
    end = 0;
  }
  if (end == 0 || end != text.size() || v > 0xFFFFFFFFul) {
    return InvalidInput("--ak-handle '" + text + "' is not a handle (e.g. 0x81000003)");
  }
  return static_cast<uint32_t>(v);
}

Result<Bytes> ParseNonce(const std::string& hex) {
  if (hex.empty()) return InvalidInput("--nonce is required (hex)");
  auto nonce = HexDecode(hex);
  if (!nonce.ok()) return nonce.status().WithContext("--nonce");
  if (nonce->size() > tpm::kMaxNonceSize) {
    return InvalidInput("--nonce is " + std::to_string(nonce->size()) + " bytes, at most 64");
  }
  return nonce;
}

void PrintJson(const Json& j) { std::printf("%s\n", j.dump(2).c_str()); }

// ---- tpm quote ------------------------------------------------------------------------------

int TpmQuote(Args args) {
  std::string nonce_hex, pcrs_text, tcti, out_dir, ak_handle, ak_alg = "ecc";
  ArgParser parser(
      "cvmctl tpm quote", "--nonce HEX --out-dir DIR [options]",
      "Makes a TPM2_Quote for NONCE and writes ak.pub.pem, ak.pub, ak.name, quote.msg\n"
      "(TPMS_ATTEST), quote.sig (TPMT_SIGNATURE), pcrs.json and, when the TPM has\n"
      "them, ek.crt and ak.crt (GCP) to DIR. Check them with\n"
      "'cvmctl tpm verify DIR --nonce HEX' or\n"
      "'tpm2_checkquote -u ak.pub.pem -m quote.msg -s quote.sig -q HEX'.");
  parser.Option("nonce", 0, "HEX", "qualifying data, at most 64 bytes", &nonce_hex);
  parser.Option("pcrs", 0, "SEL", "PCR selection (default sha256:0-15), e.g. sha256:0,1,7",
                &pcrs_text);
  parser.Option("tcti", 0, "STR", std::string("TCTI (default ") + tpm::kDefaultTcti + ")", &tcti);
  parser.Option("ak-handle", 0, "H", "use the persistent AK at H (Azure: 0x81000003)", &ak_handle);
  parser.Option("ak-alg", 0, "ALG", "created AK: ecc (P-256, default) or rsa (2048)", &ak_alg);
  parser.Option("out-dir", 'o', "DIR", "directory for the quote files (created)", &out_dir);
  if (auto code = parser.Parse(args)) return *code;
  if (out_dir.empty()) return Fail(InvalidInput("--out-dir is required"));
  auto nonce = ParseNonce(nonce_hex);
  if (!nonce.ok()) return Fail(nonce.status());
  tpm::PcrSelection selection = tpm::DefaultPcrSelection();
  if (!pcrs_text.empty()) {
    auto s = tpm::ParsePcrSelection(pcrs_text);
    if (!s.ok()) return Fail(s.status().WithContext("--pcrs"));
    selection = *s;
  }
  tpm::AkOptions ak;
  if (ak_alg == "rsa") {
    ak.alg = tpm::AkAlg::kRsa2048;
  } else if (ak_alg != "ecc") {
    return Fail(InvalidInput("--ak-alg must be ecc or rsa"));
  }
  if (!ak_handle.empty()) {
    auto h = ParseHandle(ak_handle);
    if (!h.ok()) return Fail(h.status());
    ak.persistent_handle = *h;
  }
  auto t = tpm::OpenTpm(TctiOrDefault(tcti));
  if (!t.ok()) return Fail(t.status());
  auto quote = (*t)->MakeQuote(ak, *nonce, selection);
  if (!quote.ok()) return Fail(quote.status().WithContext("tpm quote"));
  auto pem = PublicKeyToPem(quote->ak.key.get());
  if (!pem.ok()) return Fail(pem.status());
  Status st = MakeDirs(out_dir, 0755);
  auto write = [&](const char* name, ByteSpan data) {
    if (st.ok()) st = WriteFileAtomic(out_dir + "/" + name, data, 0644);
  };
  write(kAkPem, AsBytes(*pem));
  write(kAkPublic, quote->ak.public_area);
  write(kAkName, quote->ak.name);
  write(kQuoteMsg, quote->attest);
  write(kQuoteSig, quote->signature);
  write(kPcrsJson, AsBytes(tpm::PcrValuesToJson(quote->pcrs)));
  // Certificates the platform provisions, when it has them: the EK's (TCG EK Credential
  // Profile) and, on GCP, the AK's. Their absence is normal and not an error.
  for (uint32_t index : {tpm::kEkCertNvEcc, tpm::kEkCertNvRsa}) {
    auto cert = tpm::ReadNvCertificate(**t, index);
    if (cert.ok()) {
      write(kEkCert, *cert);
      break;
    }
  }
  if (!ak.persistent_handle) {
    auto cert = tpm::ReadNvCertificate(
        **t, ak.alg == tpm::AkAlg::kEcP256 ? tpm::kGcpAkCertNvEcc : tpm::kGcpAkCertNvRsa);
    if (cert.ok()) write(kAkCert, *cert);
  }
  if (!st.ok()) return Fail(st);
  std::printf("quote over %s written to %s (AK name %s)\n",
              tpm::FormatPcrSelection(selection).c_str(), out_dir.c_str(),
              HexEncode(quote->ak.name).c_str());
  return kExitOk;
}

// ---- tpm pcrs -------------------------------------------------------------------------------

int TpmPcrs(Args args) {
  std::string pcrs_text = "sha256:0-23", tcti;
  ArgParser parser("cvmctl tpm pcrs", "[--pcrs SEL] [--tcti STR]",
                   "Prints PCR values as JSON {\"sha256\": {\"0\": hex, ...}}.");
  parser.Option("pcrs", 0, "SEL", "PCR selection (default sha256:0-23)", &pcrs_text);
  parser.Option("tcti", 0, "STR", std::string("TCTI (default ") + tpm::kDefaultTcti + ")", &tcti);
  if (auto code = parser.Parse(args)) return *code;
  auto selection = tpm::ParsePcrSelection(pcrs_text);
  if (!selection.ok()) return Fail(selection.status().WithContext("--pcrs"));
  auto t = tpm::OpenTpm(TctiOrDefault(tcti));
  if (!t.ok()) return Fail(t.status());
  auto values = (*t)->ReadPcrs(*selection);
  if (!values.ok()) return Fail(values.status());
  std::fputs(tpm::PcrValuesToJson(*values).c_str(), stdout);
  return kExitOk;
}

// ---- tpm verify -----------------------------------------------------------------------------

Result<tpm::PcrValues> ReadPcrJson(const std::string& path) {
  CVM_ASSIGN_OR_RETURN(Bytes json, ReadInput(path));
  auto v = tpm::PcrValuesFromJson(AsChars(json));
  if (!v.ok()) return v.status().WithContext(path);
  return v;
}

int TpmVerify(Args args) {
  std::string nonce_hex, ak_path, eventlog, expected, pcrs_path;
  bool json = false;
  std::vector<std::string> dirs;
  ArgParser parser("cvmctl tpm verify", "DIR --nonce HEX [options]",
                   "Verifies the quote files 'cvmctl tpm quote' wrote to DIR: the AK signature,\n"
                   "extraData == NONCE and the PCR digest against pcrs.json; then, when asked,\n"
                   "validates the PCRs against an event log's replay and expected values.\n"
                   "Exit 0 verified, 1 rejected, 2 unusable input.");
  parser.Option("nonce", 0, "HEX", "the nonce the quote must carry", &nonce_hex);
  parser.Option("ak", 0, "FILE", "AK public key PEM (default DIR/ak.pub.pem)", &ak_path);
  parser.Option("pcrs", 0, "FILE", "PCR values JSON (default DIR/pcrs.json)", &pcrs_path);
  parser.Option("eventlog", 0, "FILE", "TCG event log whose replay the quoted PCRs must equal",
                &eventlog);
  parser.Option("expected-pcrs", 0, "FILE", "expected PCR values (JSON, same form as pcrs.json)",
                &expected);
  parser.Flag("json", 0, "print the result as JSON", &json);
  parser.Positionals("DIR", 1, 1, &dirs);
  if (auto code = parser.Parse(args)) return *code;
  const std::string& dir = dirs[0];
  auto nonce = ParseNonce(nonce_hex);
  if (!nonce.ok()) return Fail(nonce.status());
  auto pem = ReadInput(ak_path.empty() ? dir + "/" + kAkPem : ak_path);
  if (!pem.ok()) return Fail(pem.status());
  auto ak = PublicKeyFromPem(AsChars(*pem));
  if (!ak.ok()) return Fail(ak.status().WithContext("AK public key"));
  auto msg = ReadInput(dir + "/" + kQuoteMsg);
  if (!msg.ok()) return Fail(msg.status());
  auto sig_bytes = ReadInput(dir + "/" + kQuoteSig);
  if (!sig_bytes.ok()) return Fail(sig_bytes.status());
  auto sig = tpm::ParseTpmSignature(*sig_bytes);
  if (!sig.ok()) return Fail(sig.status().WithContext(kQuoteSig));
  auto pcrs = ReadPcrJson(pcrs_path.empty() ? dir + "/" + kPcrsJson : pcrs_path);
  if (!pcrs.ok()) return Fail(pcrs.status());

  // Verification: is this a genuine, fresh quote of these PCR values by this AK?
  auto attest = tpm::VerifyQuote(ak->get(), *msg, *sig, *nonce, *pcrs);
  if (!attest.ok()) return Fail(attest.status());

  // Validation: are the PCRs the ones expected? Every violation is reported.
  std::vector<Status> violations;
  if (!eventlog.empty()) {
    auto data = ReadInput(eventlog);
    if (!data.ok()) return Fail(data.status());
    auto log = tcg::ParseEventLog(*data);
    if (!log.ok()) return Fail(log.status().WithContext(eventlog));
    Status st = tpm::ValidatePcrsAgainstEventLog(*pcrs, *log);
    if (!st.ok()) violations.push_back(st);
  }
  if (!expected.empty()) {
    auto want = ReadPcrJson(expected);
    if (!want.ok()) return Fail(want.status());
    Status st = tpm::ValidateExpectedPcrs(*pcrs, *want);
    if (!st.ok()) violations.push_back(st);
  }
  if (json) {
    Json out;
    out["verified"] = true;
    out["valid"] = violations.empty();
    out["pcr_selection"] = tpm::FormatPcrSelection(attest->pcr_selection);
    out["qualified_signer"] = HexEncode(attest->qualified_signer);
    out["clock"] = attest->clock;
    out["reset_count"] = attest->reset_count;
    out["restart_count"] = attest->restart_count;
    out["firmware_version"] = attest->firmware_version;
    Json v = Json::array();
    for (const Status& s : violations) v.push_back(s.ToString());
    out["violations"] = v;
    PrintJson(out);
  } else {
    std::printf("quote: verified (AK signature, nonce, PCR digest over %s)\n",
                tpm::FormatPcrSelection(attest->pcr_selection).c_str());
    for (const Status& s : violations) std::printf("validation: %s\n", s.ToString().c_str());
  }
  if (!violations.empty()) {
    for (const Status& s : violations) Fail(s);
    return kExitRejected;
  }
  return kExitOk;
}

// ---- tpm hcl-report -------------------------------------------------------------------------

int TpmHclReport(Args args) {
  std::string user_hex, tcti, out, delay_text = "3000", attempts_text = "5";
  ArgParser parser("cvmctl tpm hcl-report", "-o FILE [--user-data HEX] [--tcti STR]",
                   "On an Azure confidential VM: writes USER-DATA (at most 64 bytes, zero-padded)\n"
                   "to vTPM NV 0x01400002, then reads the HCL report from NV 0x01400001 until its\n"
                   "runtime claims carry that user data, and writes it to FILE.");
  parser.Option("user-data", 0, "HEX", "user data for the report (default: 64 zero bytes)",
                &user_hex);
  parser.Option("tcti", 0, "STR", std::string("TCTI (default ") + tpm::kDefaultTcti + ")", &tcti);
  parser.Option("out", 'o', "FILE", "where to write the report ('-': stdout)", &out);
  parser.Option("delay-ms", 0, "MS", "wait before each read (default 3000)", &delay_text);
  parser.Option("attempts", 0, "N", "reads before giving up (default 5)", &attempts_text);
  if (auto code = parser.Parse(args)) return *code;
  if (out.empty()) return Fail(InvalidInput("-o/--out is required"));
  auto user = HexDecode(user_hex);
  if (!user.ok()) return Fail(user.status().WithContext("--user-data"));
  tpm::HclFetchOptions options;
  try {
    options.delay = std::chrono::milliseconds(std::stoul(delay_text));
    options.attempts = std::stoi(attempts_text);
  } catch (...) {
    return Fail(InvalidInput("--delay-ms and --attempts take numbers"));
  }
  if (options.attempts < 1) return Fail(InvalidInput("--attempts must be at least 1"));
  auto t = tpm::OpenTpm(TctiOrDefault(tcti));
  if (!t.ok()) return Fail(t.status());
  auto report = tpm::FetchAzureHclReport(**t, *user, options);
  if (!report.ok()) return Fail(report.status());
  Status st = WriteOutput(out, *report);
  if (!st.ok()) return Fail(st);
  return kExitOk;
}

// ---- eventlog replay ------------------------------------------------------------------------

int EventlogReplay(Args args) {
  bool ccel = false, json = false;
  std::vector<std::string> files;
  ArgParser parser("cvmctl eventlog replay", "FILE [--ccel] [--json]",
                   "Replays a TCG PC Client event log (crypto-agile or legacy SHA-1) into PCR\n"
                   "values per bank, or with --ccel a TDX CC event log into RTMR0-3 (SHA-384,\n"
                   "log index 1-4). FILE '-' reads stdin.");
  parser.Flag("ccel", 0, "the log is a TDX CCEL: replay into RTMRs", &ccel);
  parser.Flag("json", 0, "print {\"banks\": {...}, \"events\": N} (--ccel: {\"rtmr\": ...})",
              &json);
  parser.Positionals("FILE", 1, 1, &files);
  if (auto code = parser.Parse(args)) return *code;
  auto data = ReadInput(files[0]);
  if (!data.ok()) return Fail(data.status());
  auto log = tcg::ParseEventLog(*data);
  if (!log.ok()) return Fail(log.status().WithContext(files[0]));
  const size_t events = log->events.size();
  tcg::Registers regs = tcg::Replay(*log, ccel ? tcg::ReplayMode::kCcel : tcg::ReplayMode::kTpm);
  if (ccel) {
    // CC MR index 0 is MRTD (measured by the TDX module, not replayable); 1..4 are RTMR0..3.
    Json rtmr = Json::object();
    auto bank = regs.find(tcg::kAlgSha384);
    if (bank != regs.end()) {
      for (const auto& [index, value] : bank->second) {
        if (index >= 1 && index <= 4) rtmr[std::to_string(index - 1)] = HexEncode(value);
      }
    }
    if (json) {
      PrintJson(Json{{"rtmr", rtmr}, {"events", events}});
    } else {
      for (const auto& [index, value] : rtmr.items()) {
        std::printf("RTMR%s: %s\n", index.c_str(), value.get<std::string>().c_str());
      }
      std::printf("events: %zu\n", events);
    }
    return kExitOk;
  }
  Json banks = Json::object();
  for (const auto& [alg_id, registers] : regs) {
    Json b = Json::object();
    for (const auto& [index, value] : registers) b[std::to_string(index)] = HexEncode(value);
    banks[tcg::TpmAlgName(alg_id)] = b;
  }
  if (json) {
    PrintJson(Json{{"banks", banks}, {"events", events}});
  } else {
    for (const auto& [bank, registers] : banks.items()) {
      for (const auto& [index, value] : registers.items()) {
        std::printf("%s PCR %s: %s\n", bank.c_str(), index.c_str(),
                    value.get<std::string>().c_str());
      }
    }
    std::printf("events: %zu\n", events);
  }
  return kExitOk;
}

// ---- Azure HCL report -----------------------------------------------------------------------

Json HclJson(const tpm::HclReport& r) {
  Json j;
  j["tee"] = r.type == tpm::HclReportType::kSnp ? "az-snp-vtpm" : "az-tdx-vtpm";
  j["hcl_version"] = r.version;
  j["report_size"] = r.report_size;
  j["request_type"] = r.request_type;
  j["status"] = r.status;
  j["report_type"] = tpm::HclReportTypeName(r.type);
  j["igvm_data_size"] = r.igvm_data_size;
  j["igvm_version"] = r.igvm_version;
  j["claims_hash"] = std::string(DigestName(r.claims_hash));
  j["runtime_claims"] =
      Json::parse(r.runtime_claims.begin(), r.runtime_claims.end(), nullptr, false);
  auto ak = PublicKeyToPem(r.ak_pub.get());
  if (ak.ok()) j["ak_pub_pem"] = *ak;
  if (r.user_data) j["user_data"] = HexEncode(*r.user_data);
  return j;
}

}  // namespace

int ShowAzureHcl(ByteSpan data, const ShowOptions& options) {
  auto r = tpm::ParseHclReport(data);
  if (!r.ok()) return Fail(r.status());
  if (options.json) {
    Json j = HclJson(*r);
    if (r->type == tpm::HclReportType::kSnp) {
      auto report = snp::ParseReport(r->hardware_report);
      if (!report.ok()) return Fail(report.status().WithContext("HCL report: SNP report"));
      j["hardware_report"] = snp::ReportToJson(*report, snp::Product::kUnknown);
    } else {
      j["td_report"] = HexEncode(r->hardware_report);
    }
    PrintJson(j);
    return kExitOk;
  }
  std::printf("Azure HCL report (tee %s)\n",
              r->type == tpm::HclReportType::kSnp ? "az-snp-vtpm" : "az-tdx-vtpm");
  std::printf("  version: %u\n  report_size: %u\n  request_type: %u\n  status: %u\n", r->version,
              r->report_size, r->request_type, r->status);
  std::printf("  hardware report: %s (%zu bytes)\n", tpm::HclReportTypeName(r->type),
              r->hardware_report.size());
  std::printf("  claims hash: %s\n  report_data: %s\n",
              std::string(DigestName(r->claims_hash)).c_str(),
              HexEncode(tpm::HclReportData(*r)).c_str());
  if (r->user_data) std::printf("  user-data: %s\n", HexEncode(*r->user_data).c_str());
  std::printf("runtime claims:\n%s\n", HclJson(*r)["runtime_claims"].dump(2).c_str());
  std::fflush(stdout);
  return r->type == tpm::HclReportType::kSnp ? ShowSnpReport(r->hardware_report, options)
                                             : ShowTdReport(r->hardware_report, options);
}

int VerifyAzureHcl(ByteSpan data, const VerifyOptions& options) {
  auto r = tpm::ParseHclReport(data);
  if (!r.ok()) return Fail(r.status());
  if (r->type != tpm::HclReportType::kSnp) {
    return Fail(Unsupported(
        "Azure TDX HCL report: its TDREPORT is MAC'ed, not signed; verify the TD quote from "
        "IMDS instead"));
  }
  // 1. The hardware report is genuine (the SNP module's verification).
  auto certs = ReadCertificates(options.certs);
  if (!certs.ok()) return Fail(certs.status());
  auto roots = ReadCertificates(options.roots);
  if (!roots.ok()) return Fail(roots.status());
  if (certs->empty()) {
    return Fail(
        InvalidInput("--cert is required: the VCEK (and ASK/ARK) of the HCL's SNP "
                     "report, e.g. from the Azure IMDS or AMD KDS"));
  }
  snp::VerifyOptions snp_options;
  snp_options.certs = std::move(*certs);
  snp_options.roots = std::move(*roots);
  if (options.at) snp_options.at = *options.at;
  auto verified = snp::VerifyReport(r->hardware_report, snp_options);
  if (!verified.ok()) return Fail(verified.status().WithContext("HCL report: SNP report"));
  // 2. The runtime claims (and the AK in them) are the ones the hardware report vouches for.
  Status binding = tpm::VerifyHclBinding(*r);
  if (!binding.ok()) return Fail(binding);
  // 3. The TPM quote is signed by that AK over the PCRs it comes with.
  std::optional<tpm::Attest> quote;
  if (!options.tpm_quote.empty()) {
    auto json = ReadInput(options.tpm_quote);
    if (!json.ok()) return Fail(json.status());
    auto q = tpm::ParseAzureTpmQuote(AsChars(*json));
    if (!q.ok()) return Fail(q.status().WithContext(options.tpm_quote));
    std::optional<Bytes> nonce;
    if (!options.nonce.empty()) {
      auto n = ParseNonce(options.nonce);
      if (!n.ok()) return Fail(n.status());
      nonce = std::move(*n);
    }
    auto a = tpm::VerifyAzureTpmQuote(*r, *q, nonce ? std::optional<ByteSpan>(*nonce) : std::nullopt);
    if (!a.ok()) return Fail(a.status());
    quote = std::move(*a);
  }
  // Validation (expected values), reported after verification.
  Status valid;
  if (!options.policy.empty()) {
    auto policy = snp::LoadPolicyFile(options.policy);
    if (!policy.ok()) return Fail(policy.status().WithContext(options.policy));
    valid = snp::ValidateReport(verified->report, verified->product, *policy);
  }
  if (options.json) {
    Json j;
    j["tee"] = "az-snp-vtpm";
    j["verified"] = true;
    j["hardware_report"] = "verified";
    j["product"] = std::string(snp::ProductName(verified->product));
    j["claims_binding"] = "verified";
    if (quote) {
      j["tpm_quote"] = {{"verified", true},
                        {"pcr_selection", tpm::FormatPcrSelection(quote->pcr_selection)},
                        {"nonce", HexEncode(quote->extra_data)},
                        {"nonce_checked", !options.nonce.empty()}};
    }
    if (!options.policy.empty()) {
      j["valid"] = valid.ok();
      if (!valid.ok()) j["violations"] = valid.ToString();
    }
    // The same result shape as the other TEEs: verified, tee, reasons, report.
    j["verified"] = valid.ok();
    j["reasons"] = valid.ok() ? Json::array() : Json::array({valid.ToString()});
    j["report"] = HclJson(*r);
    PrintJson(j);
  } else {
    std::printf("hardware report: SNP (%s), verified with the VCEK chain\n",
                std::string(snp::ProductName(verified->product)).c_str());
    std::printf("claims binding: REPORT_DATA = %s(runtime claims): ok\n",
                std::string(DigestName(r->claims_hash)).c_str());
    if (quote) {
      std::printf("TPM quote: verified with HCLAkPub over %s\n",
                  tpm::FormatPcrSelection(quote->pcr_selection).c_str());
      if (options.nonce.empty()) {
        std::printf("TPM quote nonce (extraData, not checked: pass --nonce): %s\n",
                    HexEncode(quote->extra_data).c_str());
      } else {
        std::printf("TPM quote nonce: matches --nonce\n");
      }
    }
    if (!options.policy.empty() && valid.ok()) std::printf("policy: ok\n");
    std::printf("verified\n");
  }
  if (!valid.ok()) return Fail(valid);
  return kExitOk;
}

int RunTpm(Args args) {
  static constexpr const char* kUsage =
      "Usage: cvmctl tpm quote --nonce HEX --out-dir DIR [--pcrs SEL] [--tcti STR]\n"
      "                        [--ak-handle H] [--ak-alg ecc|rsa]\n"
      "       cvmctl tpm pcrs [--pcrs SEL] [--tcti STR]\n"
      "       cvmctl tpm verify DIR --nonce HEX [--eventlog FILE] [--expected-pcrs FILE]\n"
      "       cvmctl tpm hcl-report -o FILE [--user-data HEX] [--tcti STR]   (Azure)\n";
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? kExitUsage : kExitOk;
  }
  if (args[0] == "quote") return TpmQuote(args.subspan(1));
  if (args[0] == "pcrs") return TpmPcrs(args.subspan(1));
  if (args[0] == "verify") return TpmVerify(args.subspan(1));
  if (args[0] == "hcl-report") return TpmHclReport(args.subspan(1));
  std::fprintf(stderr, "cvmctl: unknown tpm command '%s'\n%s", args[0].c_str(), kUsage);
  return kExitUsage;
}

int RunEventlog(Args args) {
  static constexpr const char* kUsage = "Usage: cvmctl eventlog replay FILE [--ccel] [--json]\n";
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? kExitUsage : kExitOk;
  }
  if (args[0] == "replay") return EventlogReplay(args.subspan(1));
  std::fprintf(stderr, "cvmctl: unknown eventlog command '%s'\n%s", args[0].c_str(), kUsage);
  return kExitUsage;
}

}  // namespace cvm::cli
