#include "tdx/provider.h"

#include <algorithm>

namespace cvm::tdx {
namespace {

class TsmQuoteProvider final : public QuoteProvider {
 public:
  TsmQuoteProvider(TsmFs& fs, std::string root) : client_(fs, std::move(root)) {}

  Result<Bytes> GetQuote(ByteSpan report_data) override {
    if (report_data.size() != kTsmInblobSize) {
      return InvalidInput("tdx report data must be 64 bytes, got " +
                          std::to_string(report_data.size()));
    }
    TsmReportRequest req;
    std::copy(report_data.begin(), report_data.end(), req.inblob.begin());
    req.expected_provider = "tdx_guest";
    auto report = client_.GetReport(req);
    if (!report.ok()) return report.status().WithContext("configfs-tsm tdx quote");
    if (report->outblob.empty()) return Unavailable("configfs-tsm tdx quote: empty outblob");
    return std::move(report->outblob);
  }

 private:
  TsmReportClient client_;
};

}  // namespace

std::unique_ptr<QuoteProvider> NewTsmQuoteProvider(TsmFs& fs, std::string root) {
  return std::make_unique<TsmQuoteProvider>(fs, std::move(root));
}

Result<std::unique_ptr<QuoteProvider>> NewQuoteProvider(TsmFs& fs, std::string root) {
  TsmReportClient probe(fs, root);
  if (!probe.Available()) {
    return NotFound("no TDX quote provider: configfs-tsm (" + root +
                    ") is not available; it needs Linux 6.7+ with the tdx_guest driver");
  }
  return NewTsmQuoteProvider(fs, std::move(root));
}

}  // namespace cvm::tdx
