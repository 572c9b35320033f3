// cvmctl verbs for Intel TDX: report show / verify for DCAP quotes and TDREPORTs, and
// sim init|quote|collateral. Exit codes: 0 ok/verified, 1 rejected, 2 unusable input,
// 3 unavailable, 4 internal (common/args.h).
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cli/output.h"
#include "cli/tee_commands.h"
#include "common/args.h"
#include "common/encoding.h"
#include "common/http.h"
#include "common/x509.h"
#include "tdx/appraise.h"
#include "tdx/collateral.h"
#include "tdx/pcs.h"
#include "tdx/policy.h"
#include "tdx/quote.h"
#include "tdx/report.h"
#include "tdx/sim.h"
#include "tdx/validate.h"
#include "tdx/verify.h"

namespace cvm::cli {
namespace {

using ojson = nlohmann::ordered_json;

void Print(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

// JSON as one object per line; text as "key: value" lines.
std::string Render(const ojson& j, bool json, const char* title) {
  if (json) return j.dump(2) + "\n";
  std::string out = std::string(title) + "\n";
  for (const auto& [k, v] : j.items()) {
    out += k + ": " + (v.is_string() ? v.get<std::string>() : v.dump()) + "\n";
  }
  return out;
}

}  // namespace

int ShowTdxQuote(ByteSpan data, const ShowOptions& options) {
  auto q = tdx::ParseQuote(data);
  if (!q.ok()) return Fail(q.status());
  Print(Render(tdx::QuoteToJson(*q), options.json, "Intel TDX quote"));
  return kExitOk;
}

int ShowTdReport(ByteSpan data, const ShowOptions& options) {
  auto r = tdx::ParseTdReport(data);
  if (!r.ok()) return Fail(r.status());
  ojson j;
  j["tee"] = "tdx";
  j["kind"] = "tdreport";
  j["report_type"] = r->report_type;
  j["report_version"] = r->report_version;
  j["cpu_svn"] = HexEncode(r->cpu_svn);
  j["tee_tcb_svn"] = HexEncode(r->tee_tcb_svn);
  j["tee_tcb_svn2"] = HexEncode(r->tee_tcb_svn2);
  j["mrseam"] = HexEncode(r->mrseam);
  j["mrsignerseam"] = HexEncode(r->mrsignerseam);
  j["seam_attributes"] = HexEncode(r->seam_attributes);
  j["td_attributes"] = HexEncode(r->td_attributes);
  j["xfam"] = HexEncode(r->xfam);
  j["mrtd"] = HexEncode(r->mrtd);
  j["mrconfigid"] = HexEncode(r->mrconfigid);
  j["mrowner"] = HexEncode(r->mrowner);
  j["mrownerconfig"] = HexEncode(r->mrownerconfig);
  for (size_t i = 0; i < 4; ++i) j["rtmr" + std::to_string(i)] = HexEncode(r->rtmr[i]);
  j["servtd_hash"] = HexEncode(r->servtd_hash);
  j["report_data"] = HexEncode(r->report_data);
  j["tee_tcb_info_hash"] = HexEncode(r->tee_tcb_info_hash);
  j["tee_info_hash"] = HexEncode(r->tee_info_hash);
  j["mac"] = HexEncode(r->mac);
  j["hashes_consistent"] = tdx::CheckTdReportHashes(*r).ok();
  Print(Render(j, options.json, "Intel TDX TDREPORT (MAC'ed, verifiable only on its platform)"));
  return kExitOk;
}

int VerifyTdxQuote(ByteSpan data, const VerifyOptions& options) {
  auto fail = [&](const Status& st) { return PrintVerifyError(st, "tdx", options.json); };
  tdx::AppraiseOptions ao;
  auto roots = ReadCertificates(options.roots);
  if (!roots.ok()) return fail(roots.status().WithContext("--root"));
  ao.roots = std::move(*roots);
  for (const auto& f : options.crls) {
    auto bytes = ReadInput(f);
    if (!bytes.ok()) return fail(bytes.status());
    auto crl = Crl::Parse(*bytes);
    if (!crl.ok()) return fail(crl.status().WithContext(f));
    ao.crls.push_back(*crl);
  }
  if (!options.policy.empty()) {
    auto text = ReadInput(options.policy);
    if (!text.ok()) return fail(text.status());
    auto p = tdx::ParsePolicy(AsChars(*text));
    if (!p.ok()) return fail(p.status().WithContext(options.policy));
    ao.expected = std::move(*p);
  }
  if (options.allow_debug) ao.expected.allow_debug = true;
  if (!options.collateral.empty()) {
    auto text = ReadInput(options.collateral);
    if (!text.ok()) return fail(text.status());
    auto c = tdx::ParseCollateral(AsChars(*text));
    if (!c.ok()) return fail(c.status().WithContext(options.collateral));
    ao.collateral = std::move(*c);
  }
  ao.signature_only = options.no_collateral;
  std::unique_ptr<HttpClient> http;
  if (options.fetch) {
    http = NewCurlHttpClient();
    ao.pcs = http.get();
    if (const char* url = std::getenv("CVM_TDX_PCS_URL"); url != nullptr && *url != '\0') {
      ao.pcs_options.base_url = url;
    }
  }
  if (!ao.collateral && ao.pcs == nullptr && !ao.signature_only) {
    // Name the options; a malformed quote is reported as such first.
    auto q = tdx::ParseQuote(data);
    if (!q.ok()) return fail(q.status());
    return fail(InvalidInput(
        "no collateral: a TDX quote's TCB status and revocation need its collateral; give "
        "--collateral FILE or --fetch, or --no-collateral to accept a signature-only check"));
  }
  auto appraisal = tdx::Appraise(data, ao, *options.clock);
  if (!appraisal.ok()) return fail(appraisal.status());
  return PrintVerdict(appraisal->verdict, options.json);
}

namespace {

int SimInit(Args args) {
  std::vector<std::string> dirs;
  std::string tee;
  ArgParser p("cvmctl sim init", "DIR --tee tdx",
              "Creates a simulated TDX platform in DIR: a root CA, PCK platform CA, PCK\n"
              "certificate, TCB signing certificate, QE attestation key. Writes DIR/root.pem\n"
              "(pass it to `cvmctl verify --root`) and DIR/sim-tdx.json (private keys, 0600).");
  p.Option("tee", 0, "TEE", "tdx", &tee);
  bool force = false;
  p.Flag("force", 0, "replace an existing, non-empty DIR", &force);
  p.Positionals("DIR", 1, 1, &dirs);
  if (auto code = p.Parse(args)) return *code;
  if (Status st = RefuseExistingDir(dirs[0], force); !st.ok()) return Fail(st);
  auto sim = tdx::SimTdx::Create(std::chrono::system_clock::now());
  if (!sim.ok()) return Fail(sim.status());
  Status s = sim->Save(dirs[0]);
  if (!s.ok()) return Fail(s);
  std::printf("simulated TDX platform in %s; root certificate %s/root.pem\n", dirs[0].c_str(),
              dirs[0].c_str());
  return kExitOk;
}

int SimQuote(Args args) {
  std::vector<std::string> dirs;
  std::string report_data, out, version = "4", mrtd;
  std::vector<std::string> rtmrs;
  bool debug = false;
  ArgParser p("cvmctl sim quote", "DIR --report-data HEX [-o FILE]",
              "Writes a DCAP quote signed by the simulated platform in DIR.");
  p.Option("report-data", 0, "HEX", "REPORTDATA, up to 64 bytes (zero-padded)", &report_data);
  p.Option("output", 'o', "FILE", "output file (default: stdout)", &out);
  p.Option("version", 0, "N", "quote version: 4 (TD 1.0 body) or 5 (TD 1.5 body)", &version);
  p.Option("mrtd", 0, "HEX", "MRTD (48 bytes)", &mrtd);
  p.Repeated("rtmr", "N=HEX", "RTMR N (0-3) value, 48 bytes", &rtmrs);
  p.Flag("debug", 0, "set the DEBUG TD attribute", &debug);
  p.Positionals("DIR", 1, 1, &dirs);
  if (auto code = p.Parse(args)) return *code;
  tdx::SimQuoteOptions o;
  if (version != "4" && version != "5") return Fail(InvalidInput("--version must be 4 or 5"));
  o.version = version == "5" ? 5 : 4;
  if (!report_data.empty()) {
    auto rd = HexDecode(report_data);
    if (!rd.ok()) return Fail(rd.status().WithContext("--report-data"));
    o.report_data = std::move(*rd);
  }
  if (!mrtd.empty()) {
    auto m = HexDecodeFixed(mrtd, 48);
    if (!m.ok()) return Fail(m.status().WithContext("--mrtd"));
    o.mrtd = std::move(*m);
  }
  for (const auto& r : rtmrs) {
    if (r.size() < 3 || r[1] != '=' || r[0] < '0' || r[0] > '3') {
      return Fail(InvalidInput("--rtmr: expected N=HEX with N in 0..3"));
    }
    auto m = HexDecodeFixed(r.substr(2), 48);
    if (!m.ok()) return Fail(m.status().WithContext("--rtmr"));
    o.rtmr[static_cast<size_t>(r[0] - '0')] = std::move(*m);
  }
  if (debug) o.td_attributes |= tdx::kTdAttrDebug;
  auto sim = tdx::SimTdx::Load(dirs[0]);
  if (!sim.ok()) return Fail(sim.status());
  auto quote = sim->MakeQuote(o);
  if (!quote.ok()) return Fail(quote.status());
  Status s = WriteOutput(out, *quote);
  return s.ok() ? kExitOk : Fail(s);
}

int SimCollateral(Args args) {
  std::vector<std::string> dirs;
  std::string out, at;
  ArgParser p("cvmctl sim collateral", "DIR -o FILE [--at TIME]",
              "Writes collateral (PCCS JSON: TCB info, QE identity, CRLs, issuer chains) for the\n"
              "simulated platform in DIR, current for 30 days from TIME (default: now).");
  p.Option("output", 'o', "FILE", "output file (default: stdout)", &out);
  p.Option("at", 0, "TIME", "issue time (RFC 3339 or Unix seconds)", &at);
  p.Positionals("DIR", 1, 1, &dirs);
  if (auto code = p.Parse(args)) return *code;
  TimePoint now = std::chrono::system_clock::now();
  if (!at.empty()) {
    auto t = ParseTime(at);
    if (!t.ok()) return Fail(t.status().WithContext("--at"));
    now = *t;
  }
  auto sim = tdx::SimTdx::Load(dirs[0]);
  if (!sim.ok()) return Fail(sim.status());
  auto c = sim->MakeCollateral(now);
  if (!c.ok()) return Fail(c.status());
  Status s = WriteOutput(out, AsBytes(tdx::EncodeCollateral(*c)));
  return s.ok() ? kExitOk : Fail(s);
}

}  // namespace

int RunSimTdx(std::string_view verb, Args args) {
  if (verb == "init") return SimInit(args);
  if (verb == "quote") return SimQuote(args);
  if (verb == "collateral") return SimCollateral(args);
  return Fail(InvalidInput("unknown TDX sim command '" + std::string(verb) + "'"));
}

}  // namespace cvm::cli
