// cvmctl report show / verify for Azure HCL reports (the vTPM's NV index 0x01400001). The
// appraisal is tpm::AppraiseAzureHcl; this file parses options and prints.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/output.h"
#include "cli/tee_commands.h"
#include "common/args.h"
#include "common/encoding.h"
#include "common/http.h"
#include "snp/kds.h"
#include "snp/report_json.h"
#include "tpm/appraise.h"
#include "tpm/hcl.h"

namespace cvm::cli {
namespace {

using Json = nlohmann::ordered_json;

void PrintJson(const Json& j) { std::printf("%s\n", j.dump(2).c_str()); }

}  // namespace

int ShowAzureHcl(ByteSpan data, const ShowOptions& options) {
  auto r = tpm::ParseHclReport(data);
  if (!r.ok()) return Fail(r.status());
  if (options.json) {
    Json j = tpm::HclToJson(*r);
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
  std::printf("runtime claims:\n%s\n", tpm::HclToJson(*r)["runtime_claims"].dump(2).c_str());
  std::fflush(stdout);
  return r->type == tpm::HclReportType::kSnp ? ShowSnpReport(r->hardware_report, options)
                                             : ShowTdReport(r->hardware_report, options);
}

int VerifyAzureHcl(ByteSpan data, const VerifyOptions& options) {
  auto fail = [&](const Status& st) { return PrintVerifyError(st, "az-snp-vtpm", options.json); };
  tpm::AzureAppraiseOptions ao;
  if (Status st = SnpOptionsFrom(options, ao.snp); !st.ok()) return fail(st);
  std::unique_ptr<HttpClient> http = options.fetch ? NewCurlHttpClient() : nullptr;
  snp::KdsClient kds(http.get(), KdsCacheDir());
  ao.snp.kds = &kds;
  if (!options.tpm_quote.empty()) {
    auto json = ReadInput(options.tpm_quote);
    if (!json.ok()) return fail(json.status());
    auto q = tpm::ParseAzureTpmQuote(AsChars(*json));
    if (!q.ok()) return fail(q.status().WithContext(options.tpm_quote));
    ao.tpm_quote = std::move(*q);
    // Without --nonce the quote's extraData is shown but not checked; the verdict notes it.
    ao.ignore_nonce = options.nonce.empty();
  }
  if (!options.nonce.empty()) {
    if (options.tpm_quote.empty()) {
      return fail(InvalidInput("--nonce applies to the TPM quote: give --tpm-quote FILE"));
    }
    auto n = ParseNonce(options.nonce);
    if (!n.ok()) return fail(n.status());
    ao.nonce = std::move(*n);
  }
  auto appraisal = tpm::AppraiseAzureHcl(data, ao, *options.clock);
  if (!appraisal.ok()) return fail(CertHint(appraisal.status(), options));
  return PrintVerdict(appraisal->verdict, options.json);
}

}  // namespace cvm::cli
