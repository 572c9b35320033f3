// cvmctl verbs for AMD SEV-SNP: report show / verify for raw SNP reports, sim init|report,
// snp fetch-certs. Exit codes: 0 ok/verified, 1 rejected, 2 unusable input, 3 unavailable.
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cli/output.h"
#include "cli/tee_commands.h"
#include "common/args.h"
#include "common/encoding.h"
#include "common/file_util.h"
#include "snp/appraise.h"
#include "snp/certs_table.h"
#include "snp/kds.h"
#include "snp/policy.h"
#include "snp/report_json.h"
#include "snp/sim.h"
#include "snp/verify.h"

namespace cvm::cli {
namespace {

using snp::Product;

std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));  // NOLINT
  return buf;
}

void Print(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

std::string Tcb(uint64_t raw, Product p) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%016llx", static_cast<unsigned long long>(raw));  // NOLINT
  return std::string(buf) + " (" + snp::TcbToString(snp::DecodeTcb(raw, p), p) + ")";
}

std::string Text(const snp::Report& r, Product p) {
  auto line = [](const char* k, const std::string& v) { return std::string(k) + ": " + v + "\n"; };
  snp::GuestPolicy pol = snp::DecodePolicy(r.policy);
  snp::SignerInfo s = r.Signer();
  std::string out = "AMD SEV-SNP attestation report\n";
  out += line("product", std::string(snp::ProductName(p)));
  out += line("version", std::to_string(r.version));
  out += line("guest_svn", std::to_string(r.guest_svn));
  out += line("policy", Hex(r.policy) + " (abi " + std::to_string(pol.abi_major) + "." +
                            std::to_string(pol.abi_minor) + (pol.smt ? ", smt" : "") +
                            (pol.debug ? ", DEBUG" : "") + (pol.migrate_ma ? ", migrate_ma" : "") +
                            (pol.single_socket ? ", single_socket" : "") + ")");
  out += line("vmpl", std::to_string(r.vmpl));
  out += line("signing_key", std::string(snp::SigningKeyName(s.signing_key)) +
                                 (s.mask_chip_id ? " (chip id masked)" : "") +
                                 (s.author_key_en ? " (author key)" : ""));
  out += line("measurement", HexEncode(r.measurement));
  out += line("report_data", HexEncode(r.report_data));
  out += line("host_data", HexEncode(r.host_data));
  out += line("family_id", HexEncode(r.family_id));
  out += line("image_id", HexEncode(r.image_id));
  out += line("id_key_digest", HexEncode(r.id_key_digest));
  out += line("author_key_digest", HexEncode(r.author_key_digest));
  out += line("current_tcb", Tcb(r.current_tcb, p));
  out += line("reported_tcb", Tcb(r.reported_tcb, p));
  out += line("committed_tcb", Tcb(r.committed_tcb, p));
  out += line("launch_tcb", Tcb(r.launch_tcb, p));
  snp::PlatformInfo pi = snp::DecodePlatformInfo(r.platform_info);
  out += line("platform_info", Hex(r.platform_info) + " (" + (pi.smt_enabled ? "smt" : "no smt") +
                                   (pi.tsme_enabled ? ", tsme" : "") +
                                   (pi.ecc_enabled ? ", ecc" : "") +
                                   (pi.rapl_disabled ? ", rapl disabled" : "") +
                                   (pi.ciphertext_hiding_enabled ? ", ciphertext hiding" : "") +
                                   (pi.alias_check_complete ? ", alias check complete" : "") + ")");
  if (r.HasCpuid()) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "family 0x%02x model 0x%02x stepping 0x%02x", r.cpuid_fam_id,
                  r.cpuid_mod_id, r.cpuid_step);
    out += line("cpuid", buf);
  }
  if (r.HasMitigationVectors()) {
    out += line("launch_mit_vector", Hex(r.launch_mit_vector));
    out += line("current_mit_vector", Hex(r.current_mit_vector));
  }
  out += line("chip_id", HexEncode(r.chip_id));
  out += line("firmware", std::to_string(r.current_major) + "." + std::to_string(r.current_minor) +
                              " build " + std::to_string(r.current_build));
  out += line("report_id", HexEncode(r.report_id));
  return out;
}

}  // namespace

Result<std::vector<Certificate>> LoadCerts(const std::vector<std::string>& files,
                                           std::vector<Crl>* crls) {
  std::vector<Certificate> out;
  for (const auto& f : files) {
    CVM_ASSIGN_OR_RETURN(Bytes data, ReadInput(f));
    auto certs = ParseCertificates(data);
    if (certs.ok()) {
      out.insert(out.end(), certs->begin(), certs->end());
      continue;
    }
    auto table = snp::ParseCertTable(data);
    if (!table.ok() || table->empty()) return certs.status().WithContext(f);
    for (const auto& e : *table) {
      if (e.kind == snp::CertKind::kCrl) {
        auto crl = Crl::Parse(e.data);
        if (!crl.ok()) return crl.status().WithContext(f + ": CRL entry");
        if (crls) crls->push_back(*crl);
        continue;
      }
      if (e.kind == snp::CertKind::kOther) continue;
      auto c = Certificate::FromDer(e.data);
      if (!c.ok()) {
        return c.status().WithContext(f + ": " + std::string(snp::CertKindName(e.kind)) + " entry");
      }
      out.push_back(*c);
    }
  }
  return out;
}

// The KDS cache: $CVM_KDS_CACHE, else $XDG_CACHE_HOME/cvm-agent/kds, else ~/.cache/cvm-agent/kds.
std::string KdsCacheDir() {
  if (const char* d = std::getenv("CVM_KDS_CACHE"); d && *d) return d;
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d)
    return std::string(d) + "/cvm-agent/kds";
  if (const char* d = std::getenv("HOME"); d && *d) return std::string(d) + "/.cache/cvm-agent/kds";
  return "";
}

Status SnpOptionsFrom(const VerifyOptions& options, snp::AppraiseOptions& out) {
  if (!options.product.empty()) {
    CVM_ASSIGN_OR_RETURN(out.product,
                         std::move(snp::ParseProduct(options.product)).WithContext("--product"));
  }
  for (const auto& f : options.crls) {
    CVM_ASSIGN_OR_RETURN(Bytes bytes, ReadInput(f));
    auto crl = Crl::Parse(bytes);
    if (!crl.ok()) return crl.status().WithContext(f);
    out.crls.push_back(*crl);
  }
  CVM_ASSIGN_OR_RETURN(out.certs, LoadCerts(options.certs, &out.crls));
  CVM_ASSIGN_OR_RETURN(out.roots, LoadCerts(options.roots));
  if (!options.policy.empty()) {
    CVM_ASSIGN_OR_RETURN(out.expected, snp::LoadPolicyFile(options.policy));
  }
  if (options.allow_debug) out.expected.allow_debug = true;
  return Status::Ok();
}

// Without --cert: the hint that says where certificates come from, for the KDS error.
Status CertHint(const Status& st, const VerifyOptions& options) {
  if (!options.certs.empty() || st.ok() ||
      st.ToString().find(snp::kCertsContext) == std::string::npos) {
    return st;
  }
  return st.WithContext(options.fetch ? "no --cert given and fetching the VCEK from AMD KDS failed"
                                      : "no --cert given and the VCEK could not be taken from the "
                                        "KDS cache (give --cert FILE, or --fetch to ask AMD KDS)");
}

int ShowSnpReport(ByteSpan data, const ShowOptions& options) {
  auto r = snp::ParseReport(data);
  if (!r.ok()) return Fail(r.status());
  Product p = snp::ProductFromCpuid(*r);
  Print(options.json ? snp::ReportToJson(*r, p).dump(2) + "\n" : Text(*r, p));
  return kExitOk;
}

int VerifySnpReport(ByteSpan data, const VerifyOptions& options) {
  snp::AppraiseOptions ao;
  if (Status st = SnpOptionsFrom(options, ao); !st.ok()) {
    return PrintVerifyError(st, "snp", options.json);
  }
  std::unique_ptr<HttpClient> http = options.fetch ? NewCurlHttpClient() : nullptr;
  snp::KdsClient kds(http.get(), KdsCacheDir());
  ao.kds = &kds;
  auto appraisal = snp::Appraise(data, ao, *options.clock);
  if (!appraisal.ok()) {
    return PrintVerifyError(CertHint(appraisal.status(), options), "snp", options.json);
  }
  return PrintVerdict(appraisal->verdict, options.json);
}

namespace {

template <size_t N>
Status HexInto(const std::string& hex, std::array<uint8_t, N>& out, const char* option,
               bool allow_shorter) {
  if (hex.empty()) return Status::Ok();
  auto b = HexDecode(hex);
  if (!b.ok()) return b.status().WithContext(option);
  if (b->size() > N || (!allow_shorter && b->size() != N)) {
    return InvalidInput(std::string(option) + ": " + std::to_string(b->size()) +
                        " bytes, expected " + (allow_shorter ? "at most " : "") +
                        std::to_string(N));
  }
  out.fill(0);
  std::copy(b->begin(), b->end(), out.begin());
  return Status::Ok();
}

// "bootloader=9,tee=0,snp=23,microcode=72,fmc=1" (any order; missing components are 0).
Result<snp::TcbParts> ParseTcbList(const std::string& text) {
  snp::TcbParts t;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    std::string item =
        text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    size_t eq = item.find('=');
    std::string name = item.substr(0, eq);
    uint8_t* field = name == "fmc"          ? &t.fmc
                     : name == "bootloader" ? &t.bootloader
                     : name == "tee"        ? &t.tee
                     : name == "snp"        ? &t.snp
                     : name == "microcode"  ? &t.microcode
                                            : nullptr;
    if (field == nullptr || eq == std::string::npos) {
      return InvalidInput("'" + item + "': expected fmc|bootloader|tee|snp|microcode=N");
    }
    std::string value = item.substr(eq + 1);
    if (value.empty() || value.size() > 3 ||
        value.find_first_not_of("0123456789") != std::string::npos || std::stoul(value) > 255) {
      return InvalidInput("'" + item + "': the value must be 0..255");
    }
    *field = static_cast<uint8_t>(std::stoul(value));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return t;
}

int SimInit(Args args) {
  std::vector<std::string> pos;
  std::string tee, product = "Genoa", version = "3", chip_id, tcb;
  ArgParser parser("cvmctl sim init", "DIR --tee snp [--product P] [--report-version N] [options]",
                   "Creates a simulated AMD SEV-SNP platform in DIR: ark.pem, ask.pem, vcek.pem\n"
                   "(a chain shaped like AMD's, NOT trusted by default) and their keys (0600).");
  parser.Option("tee", 0, "TEE", "snp", &tee);
  parser.Option("product", 0, "P", "Milan, Genoa (default) or Turin", &product);
  parser.Option("report-version", 0, "N", "report version the firmware emits: 2, 3 (default) or 5",
                &version);
  parser.Option("chip-id", 0, "HEX", "CHIP_ID, up to 64 bytes, zero-padded (default random)",
                &chip_id);
  parser.Option("tcb", 0, "LIST",
                "TCB as name=value pairs, e.g. bootloader=9,tee=0,snp=23,microcode=72[,fmc=1]",
                &tcb);
  bool force = false;
  parser.Flag("force", 0, "replace an existing, non-empty DIR", &force);
  parser.Positionals("DIR", 1, 1, &pos);
  if (auto code = parser.Parse(args)) return *code;
  if (Status st = RefuseExistingDir(pos[0], force); !st.ok()) return Fail(st);
  snp::SimPlatform p;
  if (!chip_id.empty()) {
    std::array<uint8_t, 64> c{};
    if (Status st = HexInto(chip_id, c, "--chip-id", true); !st.ok()) return Fail(st);
    p.chip_id = c;
  }
  if (!tcb.empty()) {
    auto parts = ParseTcbList(tcb);
    if (!parts.ok()) return Fail(parts.status().WithContext("--tcb"));
    p.tcb = *parts;
  }
  auto prod = snp::ParseProduct(product);
  if (!prod.ok()) return Fail(prod.status().WithContext("--product"));
  p.product = *prod;
  if (version != "2" && version != "3" && version != "5") {
    return Fail(InvalidInput("--report-version: " + version + " (expected 2, 3 or 5)"));
  }
  p.report_version = static_cast<uint32_t>(std::stoul(version));
  auto sim = snp::SimSnp::Create(p, pos[0]);
  if (!sim.ok()) return Fail(sim.status());
  std::printf(
      "simulated %s (report version %u) in %s: ark.pem ask.pem vcek.pem\n"
      "verify its reports with: cvmctl verify REPORT --cert %s/vcek.pem --cert %s/ask.pem "
      "--root %s/ark.pem\n",
      product.c_str(), p.report_version, pos[0].c_str(), pos[0].c_str(), pos[0].c_str(),
      pos[0].c_str());
  return kExitOk;
}

int SimReport(Args args) {
  std::vector<std::string> pos;
  std::string report_data, measurement, host_data, policy, vmpl, out;
  ArgParser parser("cvmctl sim report", "DIR --report-data HEX [options]",
                   "Writes a signed SNP attestation report from the simulated platform in DIR.");
  parser.Option("report-data", 0, "HEX", "REPORT_DATA, up to 64 bytes (zero-padded)", &report_data);
  parser.Option("measurement", 0, "HEX", "MEASUREMENT, 48 bytes (default zeros)", &measurement);
  parser.Option("host-data", 0, "HEX", "HOST_DATA, 32 bytes (default zeros)", &host_data);
  parser.Option("policy", 0, "N", "guest POLICY (default 0x30000)", &policy);
  parser.Option("vmpl", 0, "N", "VMPL 0-3 (default 0)", &vmpl);
  parser.Option("output", 'o', "FILE", "output file (default stdout)", &out);
  parser.Positionals("DIR", 1, 1, &pos);
  if (auto code = parser.Parse(args)) return *code;
  if (report_data.empty()) return Fail(InvalidInput("--report-data is required"));
  snp::SimReportRequest q;
  for (const Status& st : {HexInto(report_data, q.report_data, "--report-data", true),
                           HexInto(measurement, q.measurement, "--measurement", false),
                           HexInto(host_data, q.host_data, "--host-data", false)}) {
    if (!st.ok()) return Fail(st);
  }
  try {
    if (!policy.empty()) q.policy = std::stoull(policy, nullptr, 0);
    if (!vmpl.empty()) q.vmpl = static_cast<uint32_t>(std::stoul(vmpl));
  } catch (const std::exception&) {
    return Fail(InvalidInput("--policy/--vmpl: not a number"));
  }
  if (q.vmpl > 3) return Fail(InvalidInput("--vmpl: must be 0..3"));
  auto sim = snp::SimSnp::Load(pos[0]);
  if (!sim.ok()) return Fail(sim.status());
  auto report = sim->MakeReport(q);
  if (!report.ok()) return Fail(report.status());
  Status st = WriteOutput(out, *report);
  return st.ok() ? kExitOk : Fail(st);
}

int FetchCerts(Args args) {
  std::vector<std::string> pos;
  std::string out = ".", product, cache = KdsCacheDir();
  bool offline = false;
  ArgParser parser("cvmctl snp fetch-certs", "FILE [--out DIR] [--product P]",
                   "Fetches the VCEK for an SNP report and its product's chain from AMD KDS\n"
                   "(cached), writing DIR/vcek.der and DIR/cert_chain.pem.");
  parser.Option("out", 0, "DIR", "output directory (default .)", &out);
  parser.Option("product", 0, "P", "Milan, Genoa or Turin (needed for version 2 reports)",
                &product);
  parser.Option("cache", 0, "DIR",
                "KDS cache directory (default $CVM_KDS_CACHE or ~/.cache/cvm-agent/kds)", &cache);
  parser.Flag("offline", 0, "use only the cache", &offline);
  parser.Positionals("FILE", 1, 1, &pos);
  if (auto code = parser.Parse(args)) return *code;
  auto data = ReadInput(pos[0]);
  if (!data.ok()) return Fail(data.status());
  auto report = snp::ParseReport(*data);
  if (!report.ok()) return Fail(report.status());
  Product p = snp::ProductFromCpuid(*report);
  if (!product.empty()) {
    auto named = snp::ParseProduct(product);
    if (!named.ok()) return Fail(named.status().WithContext("--product"));
    p = *named;
  }
  if (p == Product::kUnknown) {
    return Fail(InvalidInput("the report does not name its product (version 2): give --product"));
  }
  std::unique_ptr<HttpClient> http = offline ? nullptr : NewCurlHttpClient();
  snp::KdsClient kds(http.get(), cache);
  auto certs = snp::FetchVcek(kds, *report, p);
  if (!certs.ok()) return Fail(certs.status());
  std::string chain;
  for (const auto& c : certs->chain) chain += c.Pem();
  if (Status st = MakeDirs(out, 0755); !st.ok()) return Fail(st);
  for (const Status& st : {WriteFileAtomic(out + "/vcek.der", certs->vcek.Der(), 0644),
                           WriteFileAtomic(out + "/cert_chain.pem", chain, 0644)}) {
    if (!st.ok()) return Fail(st);
  }
  std::printf("wrote %s/vcek.der and %s/cert_chain.pem\n", out.c_str(), out.c_str());
  return kExitOk;
}

}  // namespace

int RunSimSnp(std::string_view verb, Args args) {
  if (verb == "init") return SimInit(args);
  if (verb == "report") return SimReport(args);
  return Fail(InvalidInput("unknown sim command for snp: " + std::string(verb)));
}

int RunSnp(Args args) {
  return RunVerbs(args, "snp",
                  "Usage: cvmctl snp fetch-certs FILE [--out DIR] [--product P] [--offline]\n",
                  {{"fetch-certs", FetchCerts}});
}

}  // namespace cvm::cli
