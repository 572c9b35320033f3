#include "cli/report_get.h"

#include <cstdio>

#include "cli/output.h"
#include "common/args.h"
#include "common/encoding.h"
#include "common/log.h"
#include "tdx/provider.h"

namespace cvm::cli {

Result<LiveEvidence> GetLiveEvidence(TsmFs& fs, snp::SevGuestSys& sys, ByteSpan report_data,
                                     const std::string& tsm_root) {
  if (report_data.size() > kTsmInblobSize) {
    return InvalidInput("report data is " + std::to_string(report_data.size()) +
                        " bytes, at most 64");
  }
  std::array<uint8_t, kTsmInblobSize> data{};
  std::copy(report_data.begin(), report_data.end(), data.begin());

  // SEV-SNP: configfs-tsm with the sev_guest provider, else /dev/sev-guest.
  auto snp_provider = snp::NewReportProvider(fs, sys, tsm_root);
  Status snp_status = snp_provider.status();
  if (snp_provider.ok()) {
    log::Debug("report get: trying SEV-SNP through " + std::string((*snp_provider)->Name()));
    auto r = (*snp_provider)->GetReport(data, 0);
    if (r.ok()) {
      return LiveEvidence{"snp", std::string((*snp_provider)->Name()), std::move(r->report),
                          std::move(r->cert_table)};
    }
    // configfs-tsm of another TEE answers "not the expected provider": try TDX. Any other
    // failure is this SNP guest's.
    if (r.status().code() != Code::kRejected) return r.status();
    snp_status = r.status();
  }
  // TDX: configfs-tsm with the tdx_guest provider.
  auto tdx_provider = tdx::NewQuoteProvider(fs, tsm_root);
  if (tdx_provider.ok()) {
    log::Debug("report get: trying TDX through configfs-tsm");
    auto q = (*tdx_provider)->GetQuote(data);
    if (q.ok()) return LiveEvidence{"tdx", "configfs-tsm", std::move(*q), {}};
    if (q.status().code() != Code::kRejected) return q.status();
    return Unavailable("configfs-tsm (" + tsm_root +
                       ") serves neither the sev_guest nor the tdx_guest provider");
  }
  if (snp_status.code() == Code::kNotFound) {
    return Unavailable(
        "no TEE guest interface: neither configfs-tsm (" + tsm_root +
        ") nor /dev/sev-guest is present; run this inside an SEV-SNP or TDX guest (Linux 6.7+ "
        "for configfs-tsm)");
  }
  return snp_status;
}

int ReportGet(Args args, TsmFs& fs, snp::SevGuestSys& sys, const std::string& tsm_root) {
  std::string report_data, out, certs_out;
  ArgParser parser(
      "cvmctl report get", "--report-data HEX [-o FILE] [--certs FILE]",
      "Inside a confidential VM: gets a fresh SEV-SNP report or TDX quote whose REPORT_DATA is\n"
      "HEX (at most 64 bytes, zero-padded) and writes it to FILE (default stdout). On SEV-SNP\n"
      "the host's certificate table (VCEK and chain, when the host supplies them) goes to\n"
      "--certs FILE; pass it to 'cvmctl verify --cert'. Exit 3 when this is not a TEE guest.");
  parser.Option("report-data", 0, "HEX", "REPORT_DATA, up to 64 bytes (required)", &report_data);
  parser.Option("output", 'o', "FILE", "where to write the evidence (default stdout)", &out);
  parser.Option("certs", 0, "FILE", "SEV-SNP: where to write the host's certificate table",
                &certs_out);
  if (auto code = parser.Parse(args)) return *code;
  if (report_data.empty()) return Fail(InvalidInput("--report-data is required"));
  auto data = HexDecode(report_data);
  if (!data.ok()) return Fail(data.status().WithContext("--report-data"));
  auto evidence = GetLiveEvidence(fs, sys, *data, tsm_root);
  if (!evidence.ok()) return Fail(evidence.status().WithContext("report get"));
  if (!certs_out.empty() && evidence->tee != "snp") {
    return Fail(InvalidInput("--certs applies to SEV-SNP; a TDX quote carries its PCK chain"));
  }
  if (Status st = WriteOutput(out, evidence->evidence); !st.ok()) return Fail(st);
  if (!certs_out.empty()) {
    if (Status st = WriteOutput(certs_out, evidence->cert_table); !st.ok()) return Fail(st);
  }
  std::fprintf(stderr, "cvmctl: %s %s (%zu bytes) through %s%s\n",
               evidence->tee == "snp" ? "SEV-SNP report" : "TDX quote",
               out.empty() || out == "-" ? "written to stdout" : ("written to " + out).c_str(),
               evidence->evidence.size(), evidence->provider.c_str(),
               evidence->tee == "snp"
                   ? (evidence->cert_table.empty() ? "; the host supplied no certificates"
                                                   : "; the host supplied certificates")
                   : "");
  return kExitOk;
}

}  // namespace cvm::cli
