#include "agent/collect_source.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>

#include "common/file_util.h"
#include "common/http.h"
#include "common/log.h"
#include "common/tsm.h"
#include "evidence/bundle.h"
#include "evidence/collect.h"
#include "evidence/init_data.h"
#include "gpu/nvml.h"
#include "snp/provider.h"
#include "snp/sim.h"
#include "tdx/provider.h"
#include "tdx/sim.h"
#include "tpm/tpm.h"

namespace cvm::agent {
namespace {

// Where the firmware publishes the TDX CCEL table (and data/CCEL, its event log).
constexpr char kAcpiTablesDir[] = "/sys/firmware/acpi/tables";

evidence::CollectKind ToCollectKind(TeeKind kind) {
  switch (kind) {
    case TeeKind::kSnp:
      return evidence::CollectKind::kSnp;
    case TeeKind::kTdx:
      return evidence::CollectKind::kTdx;
    case TeeKind::kAzSnpVtpm:
      return evidence::CollectKind::kAzSnpVtpm;
    case TeeKind::kAzTdxVtpm:
      return evidence::CollectKind::kAzTdxVtpm;
    case TeeKind::kSimSnp:
      return evidence::CollectKind::kSimSnp;
    case TeeKind::kSimTdx:
      return evidence::CollectKind::kSimTdx;
  }
  return evidence::CollectKind::kSnp;
}

// IMDS answers only from inside the VM: whatever the environment says, no proxy.
class NoProxyHttpClient final : public HttpClient {
 public:
  explicit NoProxyHttpClient(std::unique_ptr<HttpClient> inner) : inner_(std::move(inner)) {}
  Result<HttpResponse> Send(const HttpRequest& request) override {
    HttpRequest r = request;
    r.proxy = "";
    return inner_->Send(r);
  }

 private:
  std::unique_ptr<HttpClient> inner_;
};

class CollectSource final : public EvidenceSource {
 public:
  explicit CollectSource(std::shared_ptr<EvidenceCollector> c) : collector_(std::move(c)) {}
  Result<std::string> Collect(const EvidenceRequest& request) override {
    evidence::CollectRequest r;
    if (request.runtime_data.has_value() == request.report_data.has_value()) {
      return InvalidInput("evidence: exactly one of runtime data and raw report data is bound");
    }
    if (request.runtime_data) {
      const nlohmann::json& rt = *request.runtime_data;
      if (!rt.is_object() || rt.size() != 1 || !rt.contains("nonce") ||
          !rt.at("nonce").is_string()) {
        return InvalidInput("evidence: runtime data must be {\"nonce\": <string>}");
      }
      r.nonce = rt.at("nonce").get<std::string>();
      r.tee_pubkey = nullptr;
    } else {
      r.report_data_raw = Bytes(request.report_data->begin(), request.report_data->end());
    }
    CVM_ASSIGN_OR_RETURN(evidence::Bundle bundle, collector_->Collect(std::move(r)));
    return evidence::ToJson(bundle).dump();
  }

 private:
  std::shared_ptr<EvidenceCollector> collector_;
};

}  // namespace

struct EvidenceCollector::Impl {
  TeeKind kind = TeeKind::kSnp;
  std::string sim_dir;
  Bytes sim_measurement;  // empty: the simulator's default
  bool include_tpm = false;
  std::string event_log;
  std::optional<evidence::InitData> init_data;  // init_data, read and checked at Open
  std::unique_ptr<snp::ReportProvider> snp;
  std::unique_ptr<tdx::QuoteProvider> tdx;
  std::unique_ptr<tpm::Tpm> tpm;
  HttpClientFactory new_imds;  // the Azure kinds: a client per collection (the HTTP helper)
  std::string acpi_dir;
  // The simulator loaded once at Open (its keys in memory, like firmware), not per request.
  std::optional<snp::SimSnp> sim_snp;
  std::optional<tdx::SimTdx> sim_tdx;
  evidence::GpuMode gpu_mode = evidence::GpuMode::kOff;
  std::unique_ptr<gpu::GpuProvider> gpu;  // nullptr: no NVML
  bool gpus_collected = false;            // the last bundle carried GPU evidence
  std::mutex mu;  // one hardware request at a time (the TPM and the guest device need it)
};

EvidenceCollector::EvidenceCollector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EvidenceCollector::~EvidenceCollector() = default;

TeeKind EvidenceCollector::kind() const { return impl_->kind; }

Result<std::shared_ptr<EvidenceCollector>> EvidenceCollector::Open(const Config& config,
                                                                   const Platform& platform) {
  return OpenWith(config, platform, nullptr, nullptr);
}

Result<std::shared_ptr<EvidenceCollector>> EvidenceCollector::Open(const Config& config,
                                                                   const Platform& platform,
                                                                   HttpClientFactory http) {
  return OpenWith(config, platform, nullptr, std::move(http));
}

Result<std::shared_ptr<EvidenceCollector>> EvidenceCollector::Open(
    const Config& config, const Platform& platform, std::unique_ptr<gpu::GpuProvider> nvml) {
  return OpenWith(config, platform, std::move(nvml), nullptr);
}

Result<std::shared_ptr<EvidenceCollector>> EvidenceCollector::OpenWith(
    const Config& config, const Platform& platform, std::unique_ptr<gpu::GpuProvider> nvml,
    HttpClientFactory http) {
  auto impl = std::make_unique<Impl>();
  switch (config.gpu) {
    case GpuSetting::kOff:
      break;
    case GpuSetting::kAuto:
    case GpuSetting::kRequired: {
      impl->gpu_mode =
          config.gpu == GpuSetting::kAuto ? evidence::GpuMode::kAuto : evidence::GpuMode::kRequired;
      if (nvml) {
        impl->gpu = std::move(nvml);
        break;
      }
      auto opened = gpu::OpenNvml();
      if (opened.ok()) {
        impl->gpu = std::move(opened).value();
      } else if (config.gpu == GpuSetting::kRequired) {
        return Unavailable("gpu: required, but NVML cannot be used: " + opened.status().ToString());
      } else {
        log::Info("gpu: NVIDIA NVML not available: attesting with the CPU evidence alone",
                  {{"REASON", opened.status().message()}});
      }
      break;
    }
  }
  impl->kind = platform.kind;
  if (!config.init_data.empty()) {
    // Read once: the host gave it at launch and the report commits to it, so it cannot change.
    auto text = ReadTextFile(config.init_data, evidence::kMaxInitDataBytes);
    if (!text.ok()) return text.status().WithContext("init_data");
    if (auto parsed = evidence::ParseInitData(*text); !parsed.ok()) {
      return parsed.status().WithContext("init_data " + config.init_data);
    }
    impl->init_data = evidence::InitData{"toml", std::move(text).value()};
  }
  switch (platform.kind) {
    case TeeKind::kSimSnp: {
      // Like firmware: the VCEK key and the certificates, not the ARK and ASK keys.
      auto sim = snp::SimSnp::LoadFirmware(config.sim_state_dir);
      if (!sim.ok()) {
        return Unavailable("simulated SNP state " + config.sim_state_dir + ": " +
                           sim.status().ToString());
      }
      impl->sim_dir = config.sim_state_dir;
      impl->sim_measurement = config.sim_measurement;
      impl->sim_snp.emplace(std::move(sim).value());
      break;
    }
    case TeeKind::kSimTdx: {
      auto sim = tdx::SimTdx::Load(config.sim_state_dir);
      if (!sim.ok()) {
        return Unavailable("simulated TDX state " + config.sim_state_dir + ": " +
                           sim.status().ToString());
      }
      impl->sim_dir = config.sim_state_dir;
      impl->sim_measurement = config.sim_measurement;
      impl->sim_tdx.emplace(std::move(sim).value());
      break;
    }
    case TeeKind::kSnp: {
      auto p = snp::NewReportProvider(RealTsmFs(), snp::RealSevGuestSys());
      if (!p.ok()) return Unavailable("SEV-SNP report provider: " + p.status().ToString());
      impl->snp = std::move(p).value();
      break;
    }
    case TeeKind::kTdx: {
      auto p = tdx::NewQuoteProvider(RealTsmFs());
      if (!p.ok()) return Unavailable("TDX quote provider: " + p.status().ToString());
      impl->tdx = std::move(p).value();
      struct stat st {};
      if (::stat((std::string(kAcpiTablesDir) + "/CCEL").c_str(), &st) == 0) {
        impl->acpi_dir = kAcpiTablesDir;
      }
      break;
    }
    case TeeKind::kAzSnpVtpm:
    case TeeKind::kAzTdxVtpm:
      if (!http) return InvalidInput("the Azure kinds need an HTTP client for IMDS");
      impl->new_imds = std::move(http);
      break;
  }
  const bool azure = IsAzure(platform.kind);
  impl->include_tpm = config.tpm.enabled && !azure;
  if (azure || config.tpm.enabled) {
    // At boot the agent may start before udev has given /dev/tpmrm0 its group (the unit runs
    // early, before cryptsetup): a device TPM gets a few seconds to become usable.
    auto t = tpm::OpenTpm(config.tpm.tcti);
    const bool device = config.tpm.tcti.rfind("device:", 0) == 0;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    if (!t.ok() && device) {
      log::Warning("TPM " + config.tpm.tcti + " not usable yet (" + t.status().message() +
                   "): retrying for up to 10 s");
      while (!t.ok() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        t = tpm::OpenTpm(config.tpm.tcti);
      }
    }
    if (!t.ok()) return Unavailable("TPM " + config.tpm.tcti + ": " + t.status().ToString());
    impl->tpm = std::move(t).value();
    impl->event_log = config.tpm.event_log;
  }
  return std::shared_ptr<EvidenceCollector>(new EvidenceCollector(std::move(impl)));
}

Result<evidence::Bundle> EvidenceCollector::Collect(evidence::CollectRequest request,
                                                    evidence::CollectTimings* timings) {
  Impl& m = *impl_;
  request.kind = ToCollectKind(m.kind);
  request.sim_dir = m.sim_dir;
  if (!m.sim_measurement.empty()) {
    if (m.kind == TeeKind::kSimSnp) {
      snp::SimReportRequest launch;
      std::copy(m.sim_measurement.begin(), m.sim_measurement.end(), launch.measurement.begin());
      request.sim_snp_launch = launch;
    } else if (m.kind == TeeKind::kSimTdx) {
      request.sim_tdx_mrtd = m.sim_measurement;
    }
  }
  request.include_tpm = m.include_tpm && request.nonce.has_value();
  request.event_log_path = m.tpm ? m.event_log : std::string();
  request.init_data = m.init_data;
  // Azure: IMDS (the VCEK chain, the TD quote) through a client that lives for this collection
  // only, so the HTTP helper process does not outlive it.
  std::unique_ptr<HttpClient> imds;
  if (m.new_imds) {
    auto client = m.new_imds();
    if (!client.ok()) return client.status().WithContext("Azure IMDS");
    imds = std::make_unique<NoProxyHttpClient>(std::move(client).value());
  }
  evidence::CollectPlatform platform;
  platform.snp = m.snp.get();
  platform.tdx = m.tdx.get();
  platform.tpm = m.tpm.get();
  platform.imds = imds.get();
  platform.acpi_dir = m.acpi_dir;
  platform.sim_snp = m.sim_snp ? &*m.sim_snp : nullptr;
  platform.sim_tdx = m.sim_tdx ? &*m.sim_tdx : nullptr;
  platform.timings = timings;
  // GPUs are bound through runtime data only (raw report data has no room for them).
  request.gpus = request.nonce ? m.gpu_mode : evidence::GpuMode::kOff;
  platform.gpu = m.gpu.get();
  std::vector<std::string> notes;
  platform.notes = &notes;
  std::lock_guard<std::mutex> lock(m.mu);
  auto bundle = evidence::Collect(request, platform);
  for (const auto& note : notes) log::Info(note);
  if (bundle.ok()) {
    auto nvidia = bundle->runtime_data
                      ? bundle->runtime_data->value("additional-evidence", std::string())
                      : std::string();
    m.gpus_collected = nvidia.find("\"nvidia\"") != std::string::npos;
  }
  return bundle;
}

Status EvidenceCollector::MarkGpusReady() {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.mu);
  if (!m.gpus_collected || m.gpu == nullptr) return Status::Ok();
  CVM_RETURN_IF_ERROR(gpu::MarkGpusReady(*m.gpu).WithContext("gpu ready state"));
  log::Info("gpu: the relying party accepted the GPU evidence: GPUs marked ready");
  return Status::Ok();
}

bool EvidenceCollector::gpus_collected() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->gpus_collected;
}

std::unique_ptr<EvidenceSource> NewCollectEvidenceSource(
    std::shared_ptr<EvidenceCollector> collector) {
  return std::make_unique<CollectSource>(std::move(collector));
}

}  // namespace cvm::agent
