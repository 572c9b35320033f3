#include "tdx/validate.h"

#include <algorithm>
#include <cstdio>

#include "common/encoding.h"

namespace cvm::tdx {
namespace {

std::string Hex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

void Expect(std::vector<std::string>& out, const char* name, const Bytes& got,
            const std::optional<Bytes>& want) {
  if (want && got != *want) {
    out.push_back(std::string(name) + " is " + HexEncode(got) + ", expected " + HexEncode(*want));
  }
}

}  // namespace

std::vector<std::string> QuoteViolations(const Quote& quote, const PckExtensions* pck,
                                         const TcbEvaluation* tcb, const ValidateOptions& o) {
  std::vector<std::string> v;
  const TdQuoteBody& b = quote.body;
  Expect(v, "MRTD", b.mrtd, o.mrtd);
  static const char* kRtmr[] = {"RTMR0", "RTMR1", "RTMR2", "RTMR3"};
  for (size_t i = 0; i < 4; ++i) Expect(v, kRtmr[i], b.rtmr[i], o.rtmr[i]);
  Expect(v, "MRCONFIGID", b.mrconfigid, o.mrconfigid);
  Expect(v, "MROWNER", b.mrowner, o.mrowner);
  Expect(v, "MROWNERCONFIG", b.mrownerconfig, o.mrownerconfig);
  Expect(v, "MRSEAM", b.mrseam, o.mrseam);
  Expect(v, "REPORTDATA", b.report_data, o.report_data);
  uint64_t attrs = b.TdAttributes();
  if ((attrs & kTdAttrDebug) && !o.allow_debug) {
    v.push_back("TD attributes " + Hex64(attrs) + " have DEBUG set and debug TDs are not allowed");
  }
  if (o.td_attributes && attrs != *o.td_attributes) {
    v.push_back("TD attributes are " + Hex64(attrs) + ", expected " + Hex64(*o.td_attributes));
  }
  if (o.xfam && b.Xfam() != *o.xfam) {
    v.push_back("XFAM is " + Hex64(b.Xfam()) + ", expected " + Hex64(*o.xfam));
  }
  if (o.min_tee_tcb_svn) {
    for (size_t i = 0; i < 16 && i < o.min_tee_tcb_svn->size(); ++i) {
      if (b.tee_tcb_svn[i] < (*o.min_tee_tcb_svn)[i]) {
        v.push_back("TEE_TCB_SVN " + HexEncode(b.tee_tcb_svn) + " is below the minimum " +
                    HexEncode(*o.min_tee_tcb_svn) + " (component " + std::to_string(i) + ")");
        break;
      }
    }
  }
  uint16_t qe_svn = quote.certification.qe_report.isv_svn;
  if (o.min_qe_svn && qe_svn < *o.min_qe_svn) {
    v.push_back("QE SVN " + std::to_string(qe_svn) + " is below the minimum " +
                std::to_string(*o.min_qe_svn));
  }
  if (o.min_pce_svn) {
    if (pck == nullptr) {
      v.push_back("PCE SVN is unknown (the PCK certificate was not verified)");
    } else if (pck->pce_svn < *o.min_pce_svn) {
      v.push_back("PCE SVN " + std::to_string(pck->pce_svn) + " is below the minimum " +
                  std::to_string(*o.min_pce_svn));
    }
  }
  std::vector<TcbStatus> accepted = o.accepted_tcb_statuses;
  if (accepted.empty()) {
    accepted = {TcbStatus::kUpToDate, TcbStatus::kSWHardeningNeeded,
                TcbStatus::kConfigurationNeeded, TcbStatus::kConfigurationAndSWHardeningNeeded};
  }
  if (tcb != nullptr) {
    bool ok = tcb->status != TcbStatus::kRevoked &&
              std::find(accepted.begin(), accepted.end(), tcb->status) != accepted.end();
    if (!ok) {
      std::string list;
      for (TcbStatus s : accepted)
        list += (list.empty() ? "" : ", ") + std::string(TcbStatusName(s));
      v.push_back("TCB status " + std::string(TcbStatusName(tcb->status)) +
                  " is not accepted (accepted: " + list + ")");
    }
  } else if (!o.accepted_tcb_statuses.empty()) {
    v.push_back("TCB status is unknown (no collateral was given)");
  }
  return v;
}

Status ValidateQuote(const Quote& quote, const PckExtensions* pck, const TcbEvaluation* tcb,
                     const ValidateOptions& options) {
  std::vector<std::string> v = QuoteViolations(quote, pck, tcb, options);
  if (v.empty()) return Status::Ok();
  std::string msg = "tdx policy: " + std::to_string(v.size()) +
                    (v.size() == 1 ? " violation: " : " violations: ");
  for (size_t i = 0; i < v.size(); ++i) msg += (i ? "; " : "") + v[i];
  return Rejected(msg);
}

}  // namespace cvm::tdx
