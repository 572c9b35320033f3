// cvmctl verbs for the vTPM: quotes, PCRs, quote appraisal, Azure HCL reports from the vTPM.
// (Event logs: eventlog_cmds.cc; showing and verifying Azure HCL reports: azure_cmds.cc.)
//
//   cvmctl tpm quote --nonce HEX [--pcrs SEL] [--tcti STR] [--ak-handle H] [--ak-alg ecc|rsa]
//                    --out-dir DIR
//   cvmctl tpm pcrs [--pcrs SEL] [--tcti STR]
//   cvmctl tpm verify DIR --nonce HEX [--eventlog FILE] [--expected-pcrs FILE] [--json]
//   cvmctl tpm hcl-report -o FILE [--user-data HEX] [--tcti STR]
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
#include "tpm/appraise.h"
#include "tpm/attest.h"
#include "tpm/eventlog.h"
#include "tpm/hcl.h"
#include "tpm/pcr.h"
#include "tpm/tpm.h"

namespace cvm::cli {
namespace {

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

}  // namespace

Result<Bytes> ParseNonce(const std::string& hex) {
  if (hex.empty()) return InvalidInput("--nonce is required (hex)");
  auto nonce = HexDecode(hex);
  if (!nonce.ok()) return nonce.status().WithContext("--nonce");
  if (nonce->size() > tpm::kMaxNonceSize) {
    return InvalidInput("--nonce is " + std::to_string(nonce->size()) + " bytes, at most 64");
  }
  return nonce;
}

namespace {

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
                   "Appraises the quote files 'cvmctl tpm quote' wrote to DIR. Verification: the\n"
                   "AK signature, extraData == NONCE, and pcrs.json holding exactly the quoted\n"
                   "PCRs, which digest to the quote's pcrDigest (values outside the quoted\n"
                   "selection are refused). Validation: with --expected-pcrs, each expected PCR\n"
                   "is quoted with that value; with --eventlog, every PCR the log extends is\n"
                   "quoted and equals its replay. Exit 0 verified, 1 rejected, 2 unusable input.");
  parser.Option("nonce", 0, "HEX", "the nonce the quote must carry (required)", &nonce_hex);
  parser.Option("ak", 0, "FILE", "AK public key PEM (default DIR/ak.pub.pem)", &ak_path);
  parser.Option("pcrs", 0, "FILE", "PCR values JSON (default DIR/pcrs.json)", &pcrs_path);
  parser.Option("eventlog", 0, "FILE", "TCG event log whose replay the quoted PCRs must equal",
                &eventlog);
  parser.Option("expected-pcrs", 0, "FILE", "expected PCR values (JSON, same form as pcrs.json)",
                &expected);
  parser.Flag("json", 0, "print the verdict as one JSON object", &json);
  parser.Positionals("DIR", 1, 1, &dirs);
  if (auto code = parser.Parse(args)) return *code;
  auto fail = [&](const Status& st) { return PrintVerifyError(st, "tpm", json); };
  const std::string& dir = dirs[0];
  auto nonce = ParseNonce(nonce_hex);
  if (!nonce.ok()) return fail(nonce.status());
  auto pem = ReadInput(ak_path.empty() ? dir + "/" + kAkPem : ak_path);
  if (!pem.ok()) return fail(pem.status());
  auto ak = PublicKeyFromPem(AsChars(*pem));
  if (!ak.ok()) return fail(ak.status().WithContext("AK public key"));
  auto msg = ReadInput(dir + "/" + kQuoteMsg);
  if (!msg.ok()) return fail(msg.status());
  auto sig_bytes = ReadInput(dir + "/" + kQuoteSig);
  if (!sig_bytes.ok()) return fail(sig_bytes.status());
  auto sig = tpm::ParseTpmSignature(*sig_bytes);
  if (!sig.ok()) return fail(sig.status().WithContext(kQuoteSig));
  auto pcrs = ReadPcrJson(pcrs_path.empty() ? dir + "/" + kPcrsJson : pcrs_path);
  if (!pcrs.ok()) return fail(pcrs.status());
  tpm::QuoteAppraiseOptions options;
  options.nonce = std::move(*nonce);
  std::optional<tcg::EventLog> log;
  if (!eventlog.empty()) {
    auto data = ReadInput(eventlog);
    if (!data.ok()) return fail(data.status());
    auto parsed = tpm::ParseTpmEventLog(*data);
    if (!parsed.ok()) return fail(parsed.status().WithContext(eventlog));
    log = std::move(*parsed);
    options.event_log = &*log;
  }
  if (!expected.empty()) {
    auto want = ReadPcrJson(expected);
    if (!want.ok()) return fail(want.status());
    options.expected_pcrs = std::move(*want);
  }
  auto appraisal = tpm::AppraiseQuote(ak->get(), *msg, *sig, *pcrs, options);
  if (!appraisal.ok()) return fail(appraisal.status());
  return PrintVerdict(appraisal->verdict, json);
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

}  // namespace

int RunTpm(Args args) {
  static constexpr const char* kUsage =
      "Usage: cvmctl tpm quote --nonce HEX --out-dir DIR [--pcrs SEL] [--tcti STR]\n"
      "                        [--ak-handle H] [--ak-alg ecc|rsa]\n"
      "       cvmctl tpm pcrs [--pcrs SEL] [--tcti STR]\n"
      "       cvmctl tpm verify DIR --nonce HEX [--eventlog FILE] [--expected-pcrs FILE]\n"
      "       cvmctl tpm hcl-report -o FILE [--user-data HEX] [--tcti STR]   (Azure)\n";
  return RunVerbs(args, "tpm", kUsage,
                  {{"quote", TpmQuote},
                   {"pcrs", TpmPcrs},
                   {"verify", TpmVerify},
                   {"hcl-report", TpmHclReport}});
}

}  // namespace cvm::cli
