// configfs-tsm report provider for SEV-SNP (through common/tsm.h), and the provider factory.
#include "snp/provider.h"
#include "snp/report.h"

namespace cvm::snp {
namespace {

class TsmProvider final : public ReportProvider {
 public:
  TsmProvider(TsmFs& fs, std::string root) : client_(fs, std::move(root)) {}

  std::string_view Name() const override { return "configfs-tsm"; }

  Result<SnpEvidence> GetReport(const std::array<uint8_t, 64>& report_data,
                                uint32_t vmpl) override {
    if (vmpl > 3) return InvalidInput("vmpl " + std::to_string(vmpl) + " is not 0..3");
    TsmReportRequest req;
    req.inblob = report_data;
    req.privlevel = vmpl;
    req.read_auxblob = true;
    req.expected_provider = "sev_guest";
    CVM_ASSIGN_OR_RETURN(TsmReport r, client_.GetReport(req));
    if (r.outblob.size() != kReportSize) {
      return Internal("configfs-tsm outblob is " + std::to_string(r.outblob.size()) +
                      " bytes, not an SNP report (" + std::to_string(kReportSize) + ")");
    }
    auto certs = ParseCertTable(r.auxblob);
    if (!certs.ok()) return certs.status().WithContext("configfs-tsm auxblob");
    return SnpEvidence{std::move(r.outblob), std::move(r.auxblob), std::move(*certs)};
  }

  bool Available() const { return client_.Available(); }

 private:
  TsmReportClient client_;
};

}  // namespace

std::unique_ptr<ReportProvider> NewTsmProvider(TsmFs& fs, std::string root) {
  return std::make_unique<TsmProvider>(fs, std::move(root));
}

Result<std::unique_ptr<ReportProvider>> NewReportProvider(TsmFs& fs, SevGuestSys& sys,
                                                          const std::string& tsm_root,
                                                          SevGuestOptions options) {
  auto tsm = std::make_unique<TsmProvider>(fs, tsm_root);
  if (tsm->Available()) return std::unique_ptr<ReportProvider>(std::move(tsm));
  auto fd = sys.Open(options.device);
  if (fd.ok()) {
    sys.Close(*fd);
    return NewSevGuestProvider(sys, std::move(options));
  }
  return NotFound("no SEV-SNP report interface: configfs-tsm (" + tsm_root +
                  ") is not mounted and " + fd.status().ToString());
}

}  // namespace cvm::snp
