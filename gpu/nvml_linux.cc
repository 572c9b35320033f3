// GpuProvider over NVML, loaded with dlopen so that cvm-agent builds and runs without NVIDIA's
// packages; a VM without them gets kUnavailable from OpenNvml.
#include <dlfcn.h>

#include <cstring>

#include "gpu/nvml.h"
#include "gpu/nvml_uapi.h"

namespace cvm::gpu {
namespace {

using namespace nvml_uapi;  // NOLINT(google-build-using-namespace): the C API's own names

constexpr char kDefaultLibrary[] = "libnvidia-ml.so.1";

class NvmlProvider final : public GpuProvider {
 public:
  NvmlProvider() = default;
  NvmlProvider(const NvmlProvider&) = delete;
  NvmlProvider& operator=(const NvmlProvider&) = delete;
  ~NvmlProvider() override {
    if (initialised_ && shutdown_) shutdown_();
    if (lib_) dlclose(lib_);
  }

  Status Open(const std::string& library) {
    const std::string& name = library.empty() ? std::string(kDefaultLibrary) : library;
    lib_ = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib_ == nullptr) {
      return Unavailable("NVML (" + name +
                         ") is not installed: no NVIDIA driver in this VM, so no GPU evidence");
    }
    CVM_RETURN_IF_ERROR(Load("nvmlInit_v2", &init_));
    CVM_RETURN_IF_ERROR(Load("nvmlShutdown", &shutdown_));
    CVM_RETURN_IF_ERROR(Load("nvmlErrorString", &error_string_));
    CVM_RETURN_IF_ERROR(Load("nvmlDeviceGetCount_v2", &count_));
    CVM_RETURN_IF_ERROR(Load("nvmlDeviceGetHandleByIndex_v2", &handle_));
    CVM_RETURN_IF_ERROR(Load("nvmlDeviceGetArchitecture", &arch_));
    CVM_RETURN_IF_ERROR(Load("nvmlDeviceGetUUID", &uuid_));
    CVM_RETURN_IF_ERROR(Load("nvmlDeviceGetVbiosVersion", &vbios_));
    CVM_RETURN_IF_ERROR(Load("nvmlSystemGetDriverVersion", &driver_));
    CVM_RETURN_IF_ERROR(Load("nvmlSystemGetConfComputeState", &cc_state_));
    CVM_RETURN_IF_ERROR(Load("nvmlDeviceGetConfComputeGpuAttestationReport", &report_));
    CVM_RETURN_IF_ERROR(Load("nvmlDeviceGetConfComputeGpuCertificate", &cert_));
    CVM_RETURN_IF_ERROR(Load("nvmlSystemSetConfComputeGpusReadyState", &set_ready_));
    CVM_RETURN_IF_ERROR(Load("nvmlSystemGetConfComputeGpusReadyState", &get_ready_));
    // Newer drivers only (R550+); without it multi-GPU mode reads as off.
    settings_ = reinterpret_cast<SettingsFn>(dlsym(lib_, "nvmlSystemGetConfComputeSettings"));
    CVM_RETURN_IF_ERROR(Check(init_(), "nvmlInit_v2"));
    initialised_ = true;
    return Status::Ok();
  }

  Result<CcState> State() override {
    nvmlConfComputeSystemState_t s{};
    CVM_RETURN_IF_ERROR(Check(cc_state_(&s), "nvmlSystemGetConfComputeState"));
    CcState out;
    out.cc_enabled = s.ccFeature == NVML_CC_SYSTEM_FEATURE_ENABLED;
    out.dev_tools_mode = s.devToolsMode == NVML_CC_SYSTEM_DEVTOOLS_MODE_ON;
    if (settings_ != nullptr) {
      nvmlSystemConfComputeSettings_v1_t st{};
      st.version = static_cast<unsigned>(sizeof st) | (1U << 24);
      if (settings_(&st) == NVML_SUCCESS) {
        out.multi_gpu_protected = st.multiGpuMode == NVML_CC_SYSTEM_MULTIGPU_PROTECTED_PCIE;
      }
    }
    return out;
  }

  Result<std::string> DriverVersion() override {
    char buf[NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE] = {};
    CVM_RETURN_IF_ERROR(Check(driver_(buf, sizeof buf), "nvmlSystemGetDriverVersion"));
    return std::string(buf, strnlen(buf, sizeof buf));
  }

  Result<unsigned> Count() override {
    unsigned n = 0;
    CVM_RETURN_IF_ERROR(Check(count_(&n), "nvmlDeviceGetCount_v2"));
    return n;
  }

  Result<GpuInfo> Info(unsigned index) override {
    CVM_ASSIGN_OR_RETURN(nvmlDevice_t d, Device(index));
    GpuInfo info;
    unsigned arch = 0;
    CVM_RETURN_IF_ERROR(Check(arch_(d, &arch), "nvmlDeviceGetArchitecture"));
    info.arch = arch == NVML_DEVICE_ARCH_HOPPER      ? Architecture::kHopper
                : arch == NVML_DEVICE_ARCH_BLACKWELL ? Architecture::kBlackwell
                                                     : Architecture::kUnknown;
    char uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE] = {};
    CVM_RETURN_IF_ERROR(Check(uuid_(d, uuid, sizeof uuid), "nvmlDeviceGetUUID"));
    info.uuid.assign(uuid, strnlen(uuid, sizeof uuid));
    char vbios[NVML_DEVICE_VBIOS_VERSION_BUFFER_SIZE] = {};
    CVM_RETURN_IF_ERROR(Check(vbios_(d, vbios, sizeof vbios), "nvmlDeviceGetVbiosVersion"));
    info.vbios_version.assign(vbios, strnlen(vbios, sizeof vbios));
    return info;
  }

  Result<Bytes> Report(unsigned index, ByteSpan nonce) override {
    if (nonce.size() != kNonceSize) return InvalidInput("gpu nonce must be 32 bytes");
    CVM_ASSIGN_OR_RETURN(nvmlDevice_t d, Device(index));
    auto r = std::make_unique<nvmlConfComputeGpuAttestationReport_t>();
    std::memset(r.get(), 0, sizeof *r);
    std::memcpy(r->nonce, nonce.data(), kNonceSize);
    CVM_RETURN_IF_ERROR(Check(report_(d, r.get()), "nvmlDeviceGetConfComputeGpuAttestationReport"));
    if (r->attestationReportSize == 0 || r->attestationReportSize > sizeof r->attestationReport) {
      return Unavailable("NVML returned an attestation report of " +
                         std::to_string(r->attestationReportSize) + " bytes");
    }
    return Bytes(r->attestationReport, r->attestationReport + r->attestationReportSize);
  }

  Result<std::string> CertChain(unsigned index) override {
    CVM_ASSIGN_OR_RETURN(nvmlDevice_t d, Device(index));
    auto c = std::make_unique<nvmlConfComputeGpuCertificate_t>();
    std::memset(c.get(), 0, sizeof *c);
    CVM_RETURN_IF_ERROR(Check(cert_(d, c.get()), "nvmlDeviceGetConfComputeGpuCertificate"));
    if (c->attestationCertChainSize > sizeof c->attestationCertChain) {
      return Unavailable("NVML returned a certificate chain of " +
                         std::to_string(c->attestationCertChainSize) + " bytes");
    }
    return std::string(reinterpret_cast<const char*>(c->attestationCertChain),
                       c->attestationCertChainSize);
  }

  Status SetReady(bool ready) override {
    return Check(set_ready_(ready ? NVML_CC_ACCEPTING_CLIENT_REQUESTS_TRUE : 0),
                 "nvmlSystemSetConfComputeGpusReadyState");
  }

  Result<bool> Ready() override {
    unsigned v = 0;
    CVM_RETURN_IF_ERROR(Check(get_ready_(&v), "nvmlSystemGetConfComputeGpusReadyState"));
    return v == NVML_CC_ACCEPTING_CLIENT_REQUESTS_TRUE;
  }

 private:
  using InitFn = nvmlReturn_t (*)();
  using ErrorStringFn = const char* (*)(nvmlReturn_t);
  using CountFn = nvmlReturn_t (*)(unsigned*);
  using HandleFn = nvmlReturn_t (*)(unsigned, nvmlDevice_t*);
  using ArchFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned*);
  using StringFn = nvmlReturn_t (*)(nvmlDevice_t, char*, unsigned);
  using DriverFn = nvmlReturn_t (*)(char*, unsigned);
  using CcStateFn = nvmlReturn_t (*)(nvmlConfComputeSystemState_t*);
  using SettingsFn = nvmlReturn_t (*)(nvmlSystemConfComputeSettings_v1_t*);
  using ReportFn = nvmlReturn_t (*)(nvmlDevice_t, nvmlConfComputeGpuAttestationReport_t*);
  using CertFn = nvmlReturn_t (*)(nvmlDevice_t, nvmlConfComputeGpuCertificate_t*);
  using SetReadyFn = nvmlReturn_t (*)(unsigned);
  using GetReadyFn = nvmlReturn_t (*)(unsigned*);

  template <typename Fn>
  Status Load(const char* name, Fn* out) {
    void* sym = dlsym(lib_, name);
    if (sym == nullptr) {
      return Unavailable(std::string("NVML has no ") + name +
                         " (a driver without confidential-computing support)");
    }
    *out = reinterpret_cast<Fn>(sym);
    return Status::Ok();
  }

  Status Check(nvmlReturn_t rc, const char* what) const {
    if (rc == NVML_SUCCESS) return Status::Ok();
    const char* msg = error_string_ ? error_string_(rc) : nullptr;
    return Unavailable(std::string(what) + ": " + (msg ? msg : "error " + std::to_string(rc)));
  }

  Result<nvmlDevice_t> Device(unsigned index) {
    nvmlDevice_t d = nullptr;
    CVM_RETURN_IF_ERROR(Check(handle_(index, &d), "nvmlDeviceGetHandleByIndex_v2"));
    return d;
  }

  void* lib_ = nullptr;
  bool initialised_ = false;
  InitFn init_ = nullptr;
  InitFn shutdown_ = nullptr;
  ErrorStringFn error_string_ = nullptr;
  CountFn count_ = nullptr;
  HandleFn handle_ = nullptr;
  ArchFn arch_ = nullptr;
  StringFn uuid_ = nullptr;
  StringFn vbios_ = nullptr;
  DriverFn driver_ = nullptr;
  CcStateFn cc_state_ = nullptr;
  SettingsFn settings_ = nullptr;
  ReportFn report_ = nullptr;
  CertFn cert_ = nullptr;
  SetReadyFn set_ready_ = nullptr;
  GetReadyFn get_ready_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<GpuProvider>> OpenNvml(const std::string& library) {
  auto p = std::make_unique<NvmlProvider>();
  CVM_RETURN_IF_ERROR(p->Open(library));
  return std::unique_ptr<GpuProvider>(std::move(p));
}

}  // namespace cvm::gpu
