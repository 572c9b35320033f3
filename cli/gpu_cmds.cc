// cvmctl verbs for NVIDIA confidential-computing GPUs: gpu verify (one report + chain, or an
// evidence list), gpu rim verify, gpu evidence (collect through NVML), gpu ready. Exit codes:
// 0 verified/ok, 1 rejected (every reason printed), 2 unusable input, 3 unavailable (no NVML,
// no GPU, CC mode off), 4 internal (common/args.h).
#include <openssl/rand.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/output.h"
#include "common/args.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "gpu/evidence_json.h"
#include "gpu/nvml.h"
#include "gpu/rim.h"
#include "gpu/verify.h"

namespace cvm::cli {
namespace {

using ojson = nlohmann::ordered_json;

void Print(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

ojson GpuJson(size_t index, const gpu::GpuVerdict& v) {
  ojson j;
  j["index"] = index;
  j["architecture"] = std::string(gpu::ArchitectureName(v.arch));
  if (!v.uuid.empty()) j["uuid"] = v.uuid;
  j["verified"] = v.verified;
  j["reasons"] = v.reasons;
  j["warnings"] = v.warnings;
  if (v.report) {
    const gpu::OpaqueData& od = v.report->opaque;
    j["driver_version"] = od.driver_version;
    j["vbios_version"] = od.vbios_version;
    j["project"] = od.project;
    j["project_sku"] = od.project_sku;
    j["chip_sku"] = od.chip_sku;
    if (!od.chip_info.empty()) j["chip_info"] = od.chip_info;
    if (od.nvdec0_status) {
      j["nvdec0"] = *od.nvdec0_status == gpu::kNvdecEnabled    ? "enabled"
                    : *od.nvdec0_status == gpu::kNvdecDisabled ? "disabled"
                                                               : "unknown";
    }
    if (od.opaque_version) j["opaque_data_version"] = *od.opaque_version;
    if (od.feature_flag) j["cc_mode"] = gpu::FeatureFlagName(*od.feature_flag);
    j["nonce"] = HexEncode(v.report->nonce);
    ojson m = ojson::object();
    for (const auto& b : v.report->blocks) {
      if (!IsAllZero(b.value)) m[std::to_string(b.index)] = HexEncode(b.value);
    }
    j["measurement_blocks"] = std::move(m);
  }
  j["hwmodel"] = v.hwmodel;
  j["ueid"] = v.ueid;
  j["fwid"] = v.fwid;
  j["nonce_checked"] = v.nonce_checked;
  j["fwid_checked"] = v.fwid_checked;
  j["measurements"] = std::string(gpu::MeasurementStatusName(v.measurements));
  j["mismatched_indices"] = v.mismatched_indices;
  if (!v.driver_rim.empty()) j["driver_rim"] = v.driver_rim;
  if (!v.vbios_rim.empty()) j["vbios_rim"] = v.vbios_rim;
  return j;
}

// Prints the verdict (JSON on stdout, or text on stdout with every reason on stderr) and returns
// the exit code.
int Report(const gpu::EvidenceVerdict& v, bool json) {
  if (json) {
    ojson j;
    j["verified"] = v.verified;
    j["reasons"] = v.reasons;
    j["gpus"] = ojson::array();
    for (size_t i = 0; i < v.gpus.size(); ++i) j["gpus"].push_back(GpuJson(i, v.gpus[i]));
    Print(j.dump(2) + "\n");
  } else {
    for (size_t i = 0; i < v.gpus.size(); ++i) {
      const gpu::GpuVerdict& g = v.gpus[i];
      std::string line = "gpu " + std::to_string(i) + ": " +
                         std::string(gpu::ArchitectureName(g.arch)) + " " +
                         (g.verified ? "verified" : "rejected");
      if (g.report) {
        line += ", driver " + g.report->opaque.driver_version + ", VBIOS " +
                g.report->opaque.vbios_version;
      }
      line += ", measurements " + std::string(gpu::MeasurementStatusName(g.measurements));
      Print(line + "\n");
      for (const auto& w : g.warnings) {
        std::fprintf(stderr, "cvmctl: gpu %zu: warning: %s\n", i, w.c_str());
      }
    }
  }
  for (size_t i = 0; i < v.gpus.size(); ++i) {
    for (const auto& r : v.gpus[i].reasons) {
      std::fprintf(stderr, "cvmctl: gpu %zu: %s\n", i, r.c_str());
    }
  }
  for (const auto& r : v.reasons) std::fprintf(stderr, "cvmctl: %s\n", r.c_str());
  return v.verified ? kExitOk : kExitRejected;
}

Result<Bytes> ParseNonce(const std::string& hex) {
  auto b = HexDecode(hex);
  if (!b.ok()) return b.status().WithContext("--nonce");
  auto n = gpu::GpuNonce(*b);
  if (!n.ok()) return n.status().WithContext("--nonce");
  return n;
}

int Verify(Args args) {
  std::string report, certs, evidence, nonce, arch, at, rim_dir;
  std::vector<std::string> rims;
  bool json = false, require_rims = false;
  ArgParser parser(
      "cvmctl gpu verify",
      "(--report F --certs F [--nonce HEX] | --evidence F.json --nonce HEX) [options]",
      "Verifies NVIDIA GPU attestation evidence offline: the certificate chain to NVIDIA's "
      "built-in device identity root, the report signature, the FWID binding, the nonce, and "
      "the measurements against signed RIMs when given.");
  parser.Option("report", 0, "FILE", "attestation report (raw or NVIDIA's hex text)", &report);
  parser.Option("certs", 0, "FILE", "the GPU's PEM certificate chain, leaf first", &certs);
  parser.Option("evidence", 0, "FILE",
                "evidence list JSON (Trustee device_evidence_list or NVIDIA SDK form)", &evidence);
  parser.Option("nonce", 0, "HEX",
                "expected nonce: 32 bytes (a 48/64-byte runtime-data hash is truncated)", &nonce);
  parser.Option("arch", 0, "ARCH", "HOPPER or BLACKWELL (with --report; default from the chain)",
                &arch);
  parser.Repeated("rim", "FILE", "a driver or VBIOS RIM to compare measurements with", &rims);
  parser.Option("rim-dir", 0, "DIR", "directory of RIMs named <RIM id>.xml", &rim_dir);
  parser.Flag("require-rims", 0, "reject a GPU without both its driver and VBIOS RIM",
              &require_rims);
  parser.Option("at", 0, "TIME", "evaluate certificate validity at TIME (RFC 3339)", &at);
  parser.Flag("json", 0, "print one JSON object with a gpus list", &json);
  if (auto code = parser.Parse(args)) return *code;

  if (evidence.empty() == report.empty()) {
    return Fail(InvalidInput("give either --report (with --certs) or --evidence"));
  }
  if (!evidence.empty() && (!certs.empty() || !arch.empty())) {
    return Fail(InvalidInput("--certs and --arch apply to --report, not to --evidence"));
  }
  if (!report.empty() && certs.empty()) return Fail(InvalidInput("--report needs --certs"));
  if (!evidence.empty() && nonce.empty()) {
    return Fail(InvalidInput("--evidence needs --nonce (the challenge the GPUs signed)"));
  }

  gpu::VerifyOptions o;
  o.require_rims = require_rims;
  o.at = SystemClock::Get().Now();
  if (!at.empty()) {
    auto t = ParseTime(at);
    if (!t.ok()) return Fail(t.status().WithContext("--at"));
    o.at = *t;
  }
  if (!nonce.empty()) {
    auto n = ParseNonce(nonce);
    if (!n.ok()) return Fail(n.status());
    o.nonce = *n;
  }
  for (const auto& f : rims) {
    auto b = ReadInput(f);
    if (!b.ok()) return Fail(b.status());
    o.rims.push_back(std::move(b).value());
  }
  std::optional<gpu::DirectoryRimSource> dir;
  if (!rim_dir.empty()) {
    dir.emplace(rim_dir);
    o.rim_source = &*dir;
  }
  if (require_rims && rims.empty() && rim_dir.empty()) {
    return Fail(InvalidInput("--require-rims needs --rim or --rim-dir"));
  }

  if (!evidence.empty()) {
    auto text = ReadInput(evidence);
    if (!text.ok()) return Fail(text.status());
    auto v = gpu::VerifyNvidiaEvidence(AsChars(*text), *o.nonce, o);
    if (!v.ok()) return Fail(v.status().WithContext(evidence));
    return Report(*v, json);
  }

  gpu::GpuEvidence e;
  if (!arch.empty()) {
    auto a = gpu::ParseArchitecture(arch);
    if (!a.ok()) return Fail(a.status().WithContext("--arch"));
    e.arch = *a;
  }
  auto raw = ReadInput(report);
  if (!raw.ok()) return Fail(raw.status());
  auto decoded = gpu::DecodeReportBytes(*raw);
  if (!decoded.ok()) return Fail(decoded.status().WithContext(report));
  e.report = std::move(decoded).value();
  auto chain = ReadCertificates({certs});
  if (!chain.ok()) return Fail(chain.status());
  e.chain = std::move(chain).value();
  auto v = gpu::VerifyGpu(e, o);
  if (!v.ok()) return Fail(v.status().WithContext(report));
  gpu::EvidenceVerdict list;
  list.verified = v->verified;
  list.gpus.push_back(std::move(v).value());
  return Report(list, json);
}

int RimVerify(Args args) {
  std::string at;
  bool json = false;
  std::vector<std::string> pos;
  ArgParser parser("cvmctl gpu rim verify", "FILE [--at TIME] [--json]",
                   "Verifies an NVIDIA RIM (signed SWID XML): the XML signature and the signer "
                   "chain to NVIDIA's built-in RIM root, and lists its golden values.");
  parser.Option("at", 0, "TIME", "evaluate certificate validity at TIME (RFC 3339)", &at);
  parser.Flag("json", 0, "print JSON", &json);
  parser.Positionals("FILE", 1, 1, &pos);
  if (auto code = parser.Parse(args)) return *code;
  gpu::RimVerifyOptions o;
  o.at = SystemClock::Get().Now();
  if (!at.empty()) {
    auto t = ParseTime(at);
    if (!t.ok()) return Fail(t.status().WithContext("--at"));
    o.at = *t;
  }
  auto xml = ReadInput(pos[0]);
  if (!xml.ok()) return Fail(xml.status());
  auto rim = gpu::VerifyRim(*xml, o);
  if (!rim.ok()) return Fail(rim.status().WithContext(pos[0]));
  ojson j;
  j["verified"] = true;
  j["name"] = rim->name;
  j["version"] = rim->version;
  j["product"] = rim->product;
  j["manufacturer_id"] = rim->manufacturer_id;
  j["tag_id"] = rim->tag_id;
  j["signer"] = rim->signer ? rim->signer->Subject() : "";
  ojson values = ojson::object();
  for (const gpu::GoldenValue* g : rim->Active()) {
    ojson alts = ojson::array();
    for (const auto& h : g->hashes) alts.push_back(HexEncode(h));
    values[std::to_string(g->index)] = std::move(alts);
  }
  j["active_values"] = std::move(values);
  if (json) {
    Print(j.dump(2) + "\n");
  } else {
    Print("RIM verified: " + rim->name + " " + rim->version + ", " +
          std::to_string(rim->Active().size()) + " active golden values, signed by " +
          j["signer"].get<std::string>() + "\n");
  }
  return kExitOk;
}

int Evidence(Args args) {
  std::string nonce, output, library;
  ArgParser parser("cvmctl gpu evidence", "--nonce HEX [--output FILE]",
                   "Collects every GPU's attestation report for the nonce and its certificate "
                   "chain through NVML, as Trustee's device_evidence_list JSON.");
  parser.Option("nonce", 0, "HEX", "32-byte nonce (hex)", &nonce);
  parser.Option("output", 'o', "FILE", "output file (default stdout)", &output);
  parser.Option("nvml", 0, "LIB", "NVML library to load (default libnvidia-ml.so.1)", &library);
  if (auto code = parser.Parse(args)) return *code;
  if (nonce.empty()) return Fail(InvalidInput("--nonce is required"));
  auto n = ParseNonce(nonce);
  if (!n.ok()) return Fail(n.status());
  auto nvml = gpu::OpenNvml(library);
  if (!nvml.ok()) return Fail(nvml.status());
  auto ev = gpu::CollectEvidence(**nvml, *n);
  if (!ev.ok()) return Fail(ev.status());
  std::string out = gpu::EvidenceListJson(*ev) + "\n";
  Status s = WriteOutput(output, AsBytes(out));
  if (!s.ok()) return Fail(s);
  return kExitOk;
}

int Ready(Args args) {
  std::string rim_dir, library;
  bool require_rims = false;
  ArgParser parser("cvmctl gpu ready", "[--rim-dir DIR] [--require-rims]",
                   "Local policy: collects evidence for a fresh nonce, verifies it against "
                   "NVIDIA's roots (and RIMs), and only then lets the GPUs accept work.");
  parser.Option("rim-dir", 0, "DIR", "directory of RIMs named <RIM id>.xml", &rim_dir);
  parser.Flag("require-rims", 0, "require both RIMs for every GPU", &require_rims);
  parser.Option("nvml", 0, "LIB", "NVML library to load (default libnvidia-ml.so.1)", &library);
  if (auto code = parser.Parse(args)) return *code;
  if (require_rims && rim_dir.empty()) return Fail(InvalidInput("--require-rims needs --rim-dir"));
  Bytes nonce(gpu::kNonceSize);
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
    return Fail(Internal("no random nonce"));
  }
  auto nvml = gpu::OpenNvml(library);
  if (!nvml.ok()) return Fail(nvml.status());
  auto ev = gpu::CollectEvidence(**nvml, nonce);
  if (!ev.ok()) return Fail(ev.status());
  gpu::VerifyOptions o;
  o.at = SystemClock::Get().Now();
  o.nonce = nonce;
  o.require_rims = require_rims;
  std::optional<gpu::DirectoryRimSource> dir;
  if (!rim_dir.empty()) {
    dir.emplace(rim_dir);
    o.rim_source = &*dir;
  }
  auto v = gpu::VerifyEvidenceList(*ev, o);
  if (!v.ok()) return Fail(v.status());
  int code = Report(*v, false);
  if (code != kExitOk) return code;
  Status s = gpu::MarkGpusReady(**nvml);
  if (!s.ok()) return Fail(s);
  Print("GPUs set ready\n");
  return kExitOk;
}

constexpr char kGpuUsage[] =
    "Usage: cvmctl gpu verify --report F --certs F [--nonce HEX] [--rim F ...] [--at TIME] "
    "[--json]\n"
    "       cvmctl gpu verify --evidence F.json --nonce HEX [--rim F ...] [--at TIME] [--json]\n"
    "       cvmctl gpu rim verify FILE [--at TIME] [--json]\n"
    "       cvmctl gpu evidence --nonce HEX [--output FILE]\n"
    "       cvmctl gpu ready [--rim-dir DIR] [--require-rims]\n";

int Rim(Args args) {
  return RunVerbs(args, "gpu rim", "Usage: cvmctl gpu rim verify FILE [--at TIME] [--json]\n",
                  {{"verify", RimVerify}});
}

}  // namespace

int RunGpu(Args args) {
  return RunVerbs(args, "gpu", kGpuUsage,
                  {{"verify", Verify}, {"rim", Rim}, {"evidence", Evidence}, {"ready", Ready}});
}

}  // namespace cvm::cli
