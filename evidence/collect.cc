// Collect(): drives the providers in the order the binding needs: the TPM part first (it goes
// into the runtime data), then the runtime data's digest, then the hardware report over it.
#include "evidence/collect.h"

#include "common/encoding.h"
#include "common/file_util.h"
#include "common/keys.h"
#include "common/x509.h"
#include "evidence/init_data.h"
#include "evidence/kbs.h"
#include "evidence/trustee.h"
#include "gpu/evidence_json.h"
#include "snp/certs_table.h"
#include "snp/report.h"
#include "tdx/ccel.h"
#include "tdx/quote.h"
#include "tdx/sim.h"
#include "tpm/eventlog.h"

namespace cvm::evidence {
namespace {

using nlohmann::json;

bool IsAzure(CollectKind k) { return k == CollectKind::kAzSnpVtpm || k == CollectKind::kAzTdxVtpm; }

tpm::PcrSelection AllSha256() {
  tpm::PcrSelection s;
  tpm::PcrBank b;
  b.alg = DigestAlg::kSha256;
  for (uint32_t i = 0; i <= tpm::kMaxPcr; ++i) b.pcrs.push_back(i);
  s.banks.push_back(b);
  return s;
}

Result<Bytes> ReadLog(const std::string& path) {
  if (path.empty()) return Bytes();
  return tpm::ReadLinuxEventLog(path).WithContext("event log");
}

Result<TpmEvidence> QuoteTpm(tpm::Tpm& t, const tpm::AkOptions& ak, ByteSpan nonce,
                             const std::string& log_path, bool azure) {
  CVM_ASSIGN_OR_RETURN(tpm::Quote q, t.MakeQuote(ak, nonce, AllSha256()).WithContext("tpm quote"));
  TpmEvidence ev;
  if (!azure) {
    // The AK that signed this quote (a transient AK created again would be another key).
    if (q.ak.key == nullptr) return Internal("tpm quote: the TPM did not return the AK");
    CVM_ASSIGN_OR_RETURN(ev.ak_public, PublicKeyToDer(q.ak.key.get()));
    ev.ak_public_area = q.ak.public_area;
  }
  ev.attest = std::move(q.attest);
  ev.signature = std::move(q.signature);
  ev.pcrs = std::move(q.pcrs);
  CVM_ASSIGN_OR_RETURN(ev.event_log, ReadLog(log_path));
  return ev;
}

// The host's certificates from an SNP extended report: the ones a verifier uses.
std::vector<Bytes> HostCerts(const std::vector<snp::CertTableEntry>& entries) {
  std::vector<Bytes> out;
  for (const auto& e : entries) {
    if (e.kind == snp::CertKind::kVcek || e.kind == snp::CertKind::kVlek ||
        e.kind == snp::CertKind::kAsk || e.kind == snp::CertKind::kArk) {
      out.push_back(e.data);
    }
  }
  return out;
}

// Azure THIM: {"vcekCert": PEM, "certificateChain": PEM} (formats.md B.5).
Result<Bytes> ThimVcek(HttpClient& imds) {
  HttpRequest req;
  req.url = kImdsThimUrl;
  req.proxy = "";  // IMDS answers only inside the VM: never through a proxy
  req.headers = {{"Metadata", "true"}};
  req.max_response_bytes = 64 << 10;
  CVM_ASSIGN_OR_RETURN(HttpResponse resp, imds.Send(req).WithContext("IMDS THIM"));
  if (resp.status != 200) {
    return Unavailable("IMDS THIM: HTTP status " + std::to_string(resp.status));
  }
  json j = json::parse(resp.body.begin(), resp.body.end(), nullptr, false);
  if (!j.is_object() || !j.contains("vcekCert") || !j["vcekCert"].is_string()) {
    return InvalidInput("IMDS THIM: the answer has no vcekCert");
  }
  CVM_ASSIGN_OR_RETURN(
      Certificate c,
      Certificate::FromPem(j["vcekCert"].get<std::string>()).WithContext("IMDS THIM vcekCert"));
  return c.Der();
}

// Azure TDX: the TD quote for the HCL's TDREPORT from IMDS (formats.md C.4).
Result<Bytes> ImdsTdQuote(HttpClient& imds, ByteSpan td_report) {
  HttpRequest req;
  req.method = "POST";
  req.url = kImdsTdQuoteUrl;
  req.proxy = "";  // IMDS answers only inside the VM: never through a proxy
  req.headers = {{"Content-Type", "application/json"}};
  std::string body = json{{"report", Base64UrlEncode(td_report)}}.dump();
  req.body.assign(body.begin(), body.end());
  req.max_response_bytes = 256 << 10;
  CVM_ASSIGN_OR_RETURN(HttpResponse resp, imds.Send(req).WithContext("IMDS tdquote"));
  if (resp.status != 200) {
    return Unavailable("IMDS tdquote: HTTP status " + std::to_string(resp.status));
  }
  json j = json::parse(resp.body.begin(), resp.body.end(), nullptr, false);
  if (!j.is_object() || !j.contains("quote") || !j["quote"].is_string()) {
    return InvalidInput("IMDS tdquote: the answer has no quote");
  }
  return Base64UrlDecode(j["quote"].get<std::string>()).WithContext("IMDS tdquote: quote");
}

// What the VM was launched with must be the init-data it sends: a relying party would refuse a
// bundle whose report commits to another digest, so say so here, naming both.
Status CheckInitDataLaunch(const Bundle& b, ByteSpan digest) {
  Bytes have, want;
  std::string field;
  switch (b.tee) {
    case TeeKind::kSnp: {
      CVM_ASSIGN_OR_RETURN(snp::Report report, snp::ParseReport(b.report));
      have.assign(report.host_data.begin(), report.host_data.end());
      want = RegularizeDigest(digest, 32);
      field = "HOST_DATA";
      break;
    }
    case TeeKind::kTdx: {
      CVM_ASSIGN_OR_RETURN(tdx::Quote quote, tdx::ParseQuote(b.report));
      have = quote.body.mrconfigid;
      want = RegularizeDigest(digest, 48);
      field = "MRCONFIGID";
      break;
    }
    case TeeKind::kAzSnpVtpm:
    case TeeKind::kAzTdxVtpm: {
      if (b.tpm) {
        if (auto bank = b.tpm->pcrs.find(DigestAlg::kSha256); bank != b.tpm->pcrs.end()) {
          if (auto v = bank->second.find(8); v != bank->second.end()) have = v->second;
        }
      }
      want = AzureInitDataPcr8(digest);
      field = "sha256 PCR 8";
      break;
    }
  }
  if (have == want) return Status::Ok();
  return Rejected("init-data: this VM was launched with " + field + " " + HexEncode(have) +
                  ", but the configured init-data gives " + HexEncode(want) +
                  " (the host launched it with other init-data)");
}

std::array<uint8_t, 64> ToArray64(ByteSpan b) {
  std::array<uint8_t, 64> a{};
  std::copy(b.begin(), b.end(), a.begin());
  return a;
}

}  // namespace

Result<GpuMode> ParseGpuMode(std::string_view name) {
  if (name == "off") return GpuMode::kOff;
  if (name == "auto") return GpuMode::kAuto;
  if (name == "required") return GpuMode::kRequired;
  return InvalidInput("\"" + std::string(name) + "\" is not a GPU mode (off, auto, required)");
}

std::string_view GpuModeName(GpuMode mode) {
  switch (mode) {
    case GpuMode::kOff:
      return "off";
    case GpuMode::kAuto:
      return "auto";
    case GpuMode::kRequired:
      return "required";
  }
  return "off";
}

Result<CollectKind> ParseCollectKind(std::string_view name) {
  if (name == "snp") return CollectKind::kSnp;
  if (name == "tdx") return CollectKind::kTdx;
  if (name == "az-snp-vtpm") return CollectKind::kAzSnpVtpm;
  if (name == "az-tdx-vtpm") return CollectKind::kAzTdxVtpm;
  if (name == "sim-snp") return CollectKind::kSimSnp;
  if (name == "sim-tdx") return CollectKind::kSimTdx;
  return InvalidInput("\"" + std::string(name) +
                      "\" is not a TEE kind to collect (snp, tdx, az-snp-vtpm, az-tdx-vtpm, "
                      "sim-snp, sim-tdx)");
}

namespace {

std::chrono::microseconds Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

void Note(CollectPlatform& p, std::string note) {
  if (p.notes != nullptr) p.notes->push_back(std::move(note));
}

// The "nvidia" additional evidence, or nullopt when GpuMode::kAuto finds no usable GPU.
Result<std::optional<json>> CollectGpus(const CollectRequest& r, CollectPlatform& p) {
  const bool required = r.gpus == GpuMode::kRequired;
  if (p.gpu == nullptr) {
    if (required) return Unavailable("collect: GPU evidence is required but NVML is not loaded");
    Note(p, "gpu: no NVIDIA driver (NVML) in this VM: the CPU evidence alone");
    return std::optional<json>();
  }
  // Trustee's rule: the device nonce is the runtime data without the additional evidence.
  CVM_ASSIGN_OR_RETURN(Bytes d, RuntimeDataDigest(r.hash, *r.nonce, r.tee_pubkey, "", false));
  CVM_ASSIGN_OR_RETURN(Bytes nonce, gpu::GpuNonce(d));
  auto gpus = gpu::CollectEvidence(*p.gpu, nonce);
  if (!gpus.ok()) {
    if (!required && gpus.status().code() == Code::kUnavailable) {
      Note(p, "gpu: " + gpus.status().message() + ": the CPU evidence alone");
      return std::optional<json>();
    }
    return gpus.status().WithContext("collect: gpu");
  }
  return std::optional<json>(json::parse(gpu::EvidenceListJson(*gpus)));
}

}  // namespace

Result<Bundle> Collect(const CollectRequest& r, CollectPlatform& p) {
  if (r.nonce.has_value() == r.report_data_raw.has_value()) {
    return InvalidInput("collect: exactly one of a nonce and raw report data must be given");
  }
  const bool azure = IsAzure(r.kind);
  if (r.report_data_raw) {
    size_t n = r.report_data_raw->size();
    if (azure ? (n == 0 || n > 64) : n != 64) {
      return InvalidInput(azure ? "collect: raw report data must be 1..64 bytes"
                                : "collect: raw report data must be 64 bytes");
    }
    if (r.include_tpm && !azure) {
      return InvalidInput("collect: a TPM is bound through runtime data, not raw report data");
    }
  }
  if (r.report_data_raw && r.gpus != GpuMode::kOff) {
    if (r.gpus == GpuMode::kRequired) {
      return InvalidInput("collect: GPUs are bound through runtime data, not raw report data");
    }
    Note(p, "gpu: not collected: GPUs are bound through runtime data, not raw report data");
  }
  if ((r.include_tpm || azure) && p.tpm == nullptr) {
    return Unavailable("collect: no TPM on this platform");
  }
  std::optional<ParsedInitData> init;
  if (r.init_data) {
    if (r.init_data->format != "toml") {
      return InvalidInput("init-data: format '" + r.init_data->format + "' (only toml)");
    }
    CVM_ASSIGN_OR_RETURN(init, ParseInitData(r.init_data->body));
  }
  Bundle b;
  b.init_data = r.init_data;
  switch (r.kind) {
    case CollectKind::kSnp:
    case CollectKind::kSimSnp:
      b.tee = TeeKind::kSnp;
      break;
    case CollectKind::kTdx:
    case CollectKind::kSimTdx:
      b.tee = TeeKind::kTdx;
      break;
    case CollectKind::kAzSnpVtpm:
      b.tee = TeeKind::kAzSnpVtpm;
      break;
    case CollectKind::kAzTdxVtpm:
      b.tee = TeeKind::kAzTdxVtpm;
      break;
  }

  // 1. The runtime data and what the evidence must commit to.
  Bytes binding;  // REPORT_DATA (bare) or the TPM nonce / HCL user data (Azure)
  if (r.nonce) {
    std::string additional;
    if (r.include_tpm && !azure) {
      // The quote's nonce binds the nonce and TEE key; REPORT_DATA then covers the quote.
      CVM_ASSIGN_OR_RETURN(Bytes d, RuntimeDataDigest(r.hash, *r.nonce, r.tee_pubkey, "", false));
      auto tpm_start = std::chrono::steady_clock::now();
      auto quoted = QuoteTpm(*p.tpm, r.ak, PadReportData(d), r.event_log_path, false);
      if (p.timings != nullptr) p.timings->tpm += Since(tpm_start);
      if (!quoted.ok()) return quoted.status();
      TpmEvidence t = std::move(quoted).value();
      CVM_ASSIGN_OR_RETURN(json tj, ToTrusteeTpmEvidence(t));
      additional = json{{"tpm", tj}}.dump();
      b.tpm = std::move(t);
    }
    if (r.gpus != GpuMode::kOff) {
      auto gpu_start = std::chrono::steady_clock::now();
      auto gpus = CollectGpus(r, p);
      if (p.timings != nullptr) p.timings->gpu += Since(gpu_start);
      if (!gpus.ok()) return gpus.status();
      if (*gpus) {
        json add = additional.empty() ? json::object() : json::parse(additional);
        add["nvidia"] = std::move(**gpus);
        additional = add.dump();
      }
    }
    b.runtime_data = json{
        {"additional-evidence", additional}, {"nonce", *r.nonce}, {"tee-pubkey", r.tee_pubkey}};
    b.runtime_data_hash = r.hash;
    CVM_ASSIGN_OR_RETURN(std::string jcs, CanonicalJson(*b.runtime_data));
    binding = Digest(r.hash, AsBytes(jcs));
    if (!azure) binding = PadReportData(binding);
  } else {
    binding = *r.report_data_raw;
    b.report_data_raw = binding;
  }

  // 2. The hardware evidence, timed as "tee" up to the end of the switch or an early return.
  struct TeeTimer {
    explicit TeeTimer(CollectTimings* t) : timings(t) {}
    CollectTimings* timings;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    void Stop() {
      if (timings != nullptr) timings->tee += Since(start);
      timings = nullptr;
    }
    ~TeeTimer() { Stop(); }
  } tee_timer(p.timings);
  switch (r.kind) {
    case CollectKind::kSnp: {
      if (p.snp == nullptr) return Unavailable("collect: no SNP report provider");
      CVM_ASSIGN_OR_RETURN(snp::SnpEvidence e,
                           p.snp->GetReport(ToArray64(binding), r.vmpl).WithContext("snp report"));
      b.report = std::move(e.report);
      b.certs = HostCerts(e.certs);
      break;
    }
    case CollectKind::kSimSnp: {
      std::optional<snp::SimSnp> loaded;
      if (p.sim_snp == nullptr) {
        CVM_ASSIGN_OR_RETURN(snp::SimSnp fresh, snp::SimSnp::Load(r.sim_dir));
        loaded.emplace(std::move(fresh));
      }
      const snp::SimSnp& sim = p.sim_snp != nullptr ? *p.sim_snp : *loaded;
      snp::SimReportRequest req = r.sim_snp_launch.value_or(snp::SimReportRequest{});
      req.report_data = ToArray64(binding);
      req.vmpl = r.vmpl;
      if (init) {
        Bytes hd = RegularizeDigest(init->digest, req.host_data.size());
        std::copy(hd.begin(), hd.end(), req.host_data.begin());
      }
      CVM_ASSIGN_OR_RETURN(b.report, sim.MakeReport(req));
      b.certs = {sim.vcek().Der(), sim.ask().Der()};
      break;
    }
    case CollectKind::kTdx: {
      if (p.tdx == nullptr) return Unavailable("collect: no TDX quote provider");
      CVM_ASSIGN_OR_RETURN(b.report, p.tdx->GetQuote(binding).WithContext("tdx quote"));
      break;
    }
    case CollectKind::kSimTdx: {
      std::optional<tdx::SimTdx> loaded;
      if (p.sim_tdx == nullptr) {
        CVM_ASSIGN_OR_RETURN(tdx::SimTdx fresh, tdx::SimTdx::Load(r.sim_dir));
        loaded.emplace(std::move(fresh));
      }
      const tdx::SimTdx& sim = p.sim_tdx != nullptr ? *p.sim_tdx : *loaded;
      tdx::SimQuoteOptions q;
      q.report_data = binding;
      q.mrtd = r.sim_tdx_mrtd;
      if (init) q.mrconfigid = RegularizeDigest(init->digest, 48);
      CVM_ASSIGN_OR_RETURN(b.report, sim.MakeQuote(q));
      TimePoint now = (p.clock ? *p.clock : SystemClock::Get()).Now();
      CVM_ASSIGN_OR_RETURN(tdx::Collateral c, sim.MakeCollateral(now));
      b.collateral = tdx::EncodeCollateral(c);
      break;
    }
    case CollectKind::kAzSnpVtpm:
    case CollectKind::kAzTdxVtpm: {
      // Azure: the user data goes into the HCL report (its hardware report binds the claims,
      // which carry it), and the same digest is the vTPM quote's nonce.
      CVM_ASSIGN_OR_RETURN(
          b.report,
          tpm::FetchAzureHclReport(*p.tpm, binding, p.hcl).WithContext("azure HCL report"));
      tpm::AkOptions ak;
      ak.persistent_handle = tpm::kAzureAkHandle;
      CVM_ASSIGN_OR_RETURN(TpmEvidence t, QuoteTpm(*p.tpm, ak, binding, r.event_log_path, true));
      b.tpm = std::move(t);
      if (p.imds == nullptr) return Unavailable("collect: no IMDS client for Azure evidence");
      if (r.kind == CollectKind::kAzSnpVtpm) {
        CVM_ASSIGN_OR_RETURN(Bytes vcek, ThimVcek(*p.imds));
        b.certs = {std::move(vcek)};
      } else {
        CVM_ASSIGN_OR_RETURN(tpm::HclReport hcl, tpm::ParseHclReport(b.report));
        CVM_ASSIGN_OR_RETURN(b.td_quote, ImdsTdQuote(*p.imds, hcl.hardware_report));
      }
      break;
    }
  }
  tee_timer.Stop();
  if (b.tee == TeeKind::kTdx && !p.acpi_dir.empty()) {
    CVM_ASSIGN_OR_RETURN(tdx::CcelFiles ccel, tdx::ReadCcel(p.acpi_dir).WithContext("ccel"));
    b.ccel = std::move(ccel.log);
  }
  if (init) CVM_RETURN_IF_ERROR(CheckInitDataLaunch(b, init->digest));
  return b;
}

}  // namespace cvm::evidence
