#include "tpm/appraise.h"

#include <algorithm>

#include "common/encoding.h"
#include "common/keys.h"
#include "common/log.h"
#include "snp/report_json.h"
#include "tpm/eventlog.h"
#include "tpm/public_area.h"

namespace cvm::tpm {
namespace {

using ojson = nlohmann::ordered_json;

ojson PcrsJson(const PcrValues& pcrs) {
  ojson j = ojson::object();
  for (const auto& [alg, bank] : pcrs) {
    ojson b = ojson::object();
    for (const auto& [index, value] : bank) b[std::to_string(index)] = HexEncode(value);
    j[std::string(DigestName(alg))] = b;
  }
  return j;
}

// Validation of a verified quote's PCRs (`pcrs` are exactly the quoted selection's values):
// every violation is added to `v`.
void ValidatePcrs(const Attest& a, const PcrValues& pcrs, const std::optional<PcrValues>& expected,
                  const tcg::EventLog* event_log, Verdict& v) {
  const std::string selection = FormatPcrSelection(a.pcr_selection);
  if (expected) {
    log::Debug("tpm: checking expected PCRs against the quoted " + selection);
    for (const auto& p : PcrsOutsideSelection(a.pcr_selection, *expected)) {
      v.Reject("expected PCR " + p + " is not in the quoted selection " + selection +
               " (the quote does not cover it)");
    }
    PcrValues inside;
    for (const auto& [alg, bank] : *expected) {
      for (const auto& [index, value] : bank) {
        if (SelectionContains(a.pcr_selection, alg, index)) inside[alg][index] = value;
      }
    }
    Status st = ValidateExpectedPcrs(pcrs, inside);
    if (!st.ok()) v.Reject(st.message());
    v.checks.push_back("expected PCR values");
  }
  if (event_log != nullptr) {
    log::Debug("tpm: checking the quoted " + selection + " against the event log's replay (" +
               std::to_string(event_log->events.size()) + " events)");
    // The log's events for a PCR the quote does not cover are not attested by it.
    PcrValues replayed = ReplayPcrs(*event_log);
    for (const PcrBank& bank : a.pcr_selection.banks) {
      auto it = replayed.find(bank.alg);
      if (it == replayed.end()) continue;
      for (const auto& [index, value] : it->second) {
        if (!SelectionContains(a.pcr_selection, bank.alg, index)) {
          v.Reject("the event log extends " + std::string(DigestName(bank.alg)) + ":" +
                   std::to_string(index) + ", which the quote (" + selection + ") does not cover");
        }
      }
    }
    // Only the PCRs the log accounts for: a real boot's IMA PCR 10 and DRTM PCRs 17-22 are not
    // in the firmware's log (found by the VM test, tests/vm).
    std::vector<std::string> uncovered;
    Status st = ValidatePcrsAgainstEventLog(PcrsCoveredByEventLog(pcrs, *event_log, &uncovered),
                                            *event_log);
    if (!st.ok()) v.Reject(st.message());
    v.checks.push_back("quoted PCRs 0-9 and every PCR the event log extends equal its replay");
    if (!uncovered.empty()) {
      std::string names;
      for (const auto& n : uncovered) names += (names.empty() ? "" : ", ") + n;
      v.notes.push_back("quoted PCRs the event log does not extend, not compared with it: " +
                        names);
    }
  }
}

// Verification of the quote's signer against the AK's public area: it holds `ak` and is an
// attestation key; qualifiedSigner (the AK's qualified name) is a name of the AK's name
// algorithm and, when the AK is a primary key (what cvm-agent creates), the AK's qualified name
// in its hierarchy. A descendant key's qualified name depends on parents a verifier does not
// see: `signer` then says it was not compared. Returns the first failure as a reason.
std::optional<std::string> AkPublicAreaProblem(const EVP_PKEY* ak, ByteSpan area, const Attest& a,
                                               std::string* signer) {
  auto pub = ParsePublicArea(area);
  if (!pub.ok()) return "AK public area: " + pub.status().ToString();
  auto der_area = PublicKeyToDer(pub->key.get());
  auto der_ak = PublicKeyToDer(ak);
  if (!der_area.ok() || !der_ak.ok() || *der_area != *der_ak) {
    return std::string("the AK public area holds another key than the AK");
  }
  if (!pub->IsAttestationKey()) {
    return std::string("the AK is not a restricted signing key fixed to the TPM");
  }
  if (a.qualified_signer.size() != pub->name.size() ||
      !std::equal(pub->name.begin(), pub->name.begin() + 2, a.qualified_signer.begin())) {
    return "qualifiedSigner " + HexEncode(a.qualified_signer) +
           " is not a name of the AK's name algorithm (AK name " + HexEncode(pub->name) + ")";
  }
  if (a.qualified_signer == pub->name) {
    *signer = "qualifiedSigner is the AK's name";
    return std::nullopt;
  }
  const std::pair<uint32_t, const char*> hierarchies[] = {{kRhEndorsement, "endorsement"},
                                                          {kRhOwner, "owner"},
                                                          {kRhPlatform, "platform"},
                                                          {kRhNull, "null"}};
  for (const auto& [handle, hierarchy] : hierarchies) {
    if (a.qualified_signer == PrimaryQualifiedName(*pub, handle)) {
      *signer = std::string("qualifiedSigner is the AK's qualified name as a primary key of the ") +
                hierarchy + " hierarchy";
      return std::nullopt;
    }
  }
  *signer =
      "qualifiedSigner not compared: the AK is not a primary key and its parents are not known";
  return std::nullopt;
}

}  // namespace

Result<QuoteAppraisal> AppraiseQuote(const EVP_PKEY* ak, ByteSpan attest,
                                     const TpmSignature& signature, const PcrValues& pcrs,
                                     const QuoteAppraiseOptions& options) {
  if (options.ignore_nonce && !options.nonce.empty()) {
    return InvalidInput("a nonce given together with ignore_nonce: use one or the other");
  }
  if (options.nonce.empty() && !options.ignore_nonce) {
    return InvalidInput("no nonce: a TPM quote is only fresh if it carries the verifier's nonce");
  }
  QuoteAppraisal out;
  Verdict& v = out.verdict;
  v.tee = "tpm";
  v.report_data = HexEncode(options.nonce);
  log::Debug("tpm: verifying the quote (" + std::to_string(attest.size()) +
             " bytes): AK signature, structure, extraData, PCR digest");
  auto a = options.ignore_nonce ? VerifyQuoteIgnoringNonce(ak, attest, signature, pcrs)
                                : VerifyQuote(ak, attest, signature, options.nonce, pcrs);
  if (!a.ok() && a.status().code() != Code::kRejected) return a.status();
  if (!a.ok()) {
    log::Debug("tpm: quote rejected: " + a.status().ToString());
    v.Reject(a.status().ToString());
    v.Finish();
    return out;
  }
  const std::string selection = FormatPcrSelection(a->pcr_selection);
  v.measurement = HexEncode(a->pcr_digest);
  if (options.ignore_nonce) v.report_data = HexEncode(a->extra_data);
  v.checks = {
      "quote signature by the AK (" + std::string(DigestName(signature.hash)) + ")",
      options.ignore_nonce ? "extraData not compared (no nonce)" : "extraData equals the nonce",
      "PCR values are exactly the quoted selection " + selection + " and digest to its pcrDigest"};
  if (options.ignore_nonce) {
    v.notes.push_back("nonce not checked (extraData " + HexEncode(a->extra_data) +
                      "): the quote may be a replay");
  }
  if (!options.ak_public_area.empty()) {
    std::string signer;
    if (auto problem = AkPublicAreaProblem(ak, options.ak_public_area, *a, &signer)) {
      log::Debug("tpm: quote rejected: " + *problem);
      v.Reject(*problem);
      v.Finish();
      return out;
    }
    v.checks.push_back(
        "the AK's public area holds the AK, a restricted signing key fixed to the TPM");
    v.checks.push_back(signer);
  } else {
    v.notes.push_back("qualifiedSigner not compared: no AK public area given");
  }
  v.genuine = true;
  v.details["pcr_selection"] = selection;
  v.details["pcrs"] = PcrsJson(pcrs);
  v.details["qualified_signer_checked"] = !options.ak_public_area.empty();
  v.report = ojson{{"qualified_signer", HexEncode(a->qualified_signer)},
                   {"extra_data", HexEncode(a->extra_data)},
                   {"clock", a->clock},
                   {"reset_count", a->reset_count},
                   {"restart_count", a->restart_count},
                   {"safe", a->safe},
                   {"firmware_version", a->firmware_version},
                   {"pcr_selection", selection},
                   {"pcr_digest", HexEncode(a->pcr_digest)}};
  log::Debug("tpm: genuine quote over " + selection);
  ValidatePcrs(*a, pcrs, options.expected_pcrs, options.event_log, v);
  if (!options.expected_pcrs && options.event_log == nullptr) {
    v.notes.push_back("PCR values not validated: no expected values and no event log");
  }
  out.attest = std::move(*a);
  v.Finish();
  return out;
}

ojson HclToJson(const HclReport& r) {
  ojson j;
  j["tee"] = r.type == HclReportType::kSnp ? "az-snp-vtpm" : "az-tdx-vtpm";
  j["hcl_version"] = r.version;
  j["report_size"] = r.report_size;
  j["request_type"] = r.request_type;
  j["status"] = r.status;
  j["report_type"] = HclReportTypeName(r.type);
  j["igvm_data_size"] = r.igvm_data_size;
  j["igvm_version"] = r.igvm_version;
  j["claims_hash"] = std::string(DigestName(r.claims_hash));
  j["runtime_claims"] =
      ojson::parse(r.runtime_claims.begin(), r.runtime_claims.end(), nullptr, false);
  if (j["runtime_claims"].is_discarded()) j["runtime_claims"] = nullptr;
  auto ak = PublicKeyToPem(r.ak_pub.get());
  if (ak.ok()) j["ak_pub_pem"] = *ak;
  if (r.user_data) j["user_data"] = HexEncode(*r.user_data);
  return j;
}

Result<AzureAppraisal> AppraiseAzureHcl(ByteSpan hcl_bytes, const AzureAppraiseOptions& options,
                                        const Clock& clock) {
  if (!options.tpm_quote && (options.nonce || options.expected_pcrs ||
                             options.event_log != nullptr || !options.ak_public_area.empty())) {
    return InvalidInput(
        "a nonce, expected PCRs, an event log or an AK public area apply to the TPM quote, and "
        "none was given");
  }
  if (options.tpm_quote && !options.nonce && !options.ignore_nonce) {
    return InvalidInput(
        "no nonce for the TPM quote: a quote is only fresh if it carries the verifier's nonce");
  }
  if (options.nonce && options.nonce->empty()) return InvalidInput("the nonce is empty");
  CVM_ASSIGN_OR_RETURN(HclReport hcl, ParseHclReport(hcl_bytes));
  if (hcl.type != HclReportType::kSnp) {
    return Unsupported(
        "Azure TDX HCL report: its TDREPORT is MAC'ed, not signed; verify the TD quote from "
        "IMDS instead");
  }
  log::Debug("azure: parsed an HCL report (SNP, claims hashed with " +
             std::string(DigestName(hcl.claims_hash)) + ")");
  AzureAppraisal out;
  Verdict& v = out.verdict;
  v.tee = "az-snp-vtpm";
  v.report = HclToJson(hcl);

  // 2. The hardware report.
  auto snp_appraisal = snp::Appraise(hcl.hardware_report, options.snp, clock);
  if (!snp_appraisal.ok()) return snp_appraisal.status().WithContext("HCL report: SNP report");
  out.snp = std::move(*snp_appraisal);
  const Verdict& s = out.snp.verdict;
  v.genuine = s.genuine;
  v.product = s.product;
  v.tcb = s.tcb;
  v.measurement = s.measurement;
  v.report_data = s.report_data;
  for (const auto& c : s.checks) v.checks.push_back("SNP report: " + c);
  for (const auto& n : s.notes) v.notes.push_back("SNP report: " + n);
  for (const auto& r : s.reasons) v.Reject("SNP report: " + r);
  v.details["hardware_report"] = VerdictToJson(s);
  v.report["hardware_report"] = s.report;
  if (!s.genuine) {
    v.Finish();
    out.hcl = std::move(hcl);
    return out;
  }

  // 3. The claims binding.
  log::Debug("azure: checking REPORT_DATA = " + std::string(DigestName(hcl.claims_hash)) +
             "(runtime claims)");
  Status binding = VerifyHclBinding(hcl);
  if (!binding.ok() && binding.code() != Code::kRejected) return binding;
  if (!binding.ok()) {
    v.genuine = false;
    v.Reject("HCL report: " + binding.ToString());
    v.details["claims_binding"] = "failed";
    v.Finish();
    out.hcl = std::move(hcl);
    return out;
  }
  v.details["claims_binding"] = "verified";
  v.checks.push_back("REPORT_DATA = " + std::string(DigestName(hcl.claims_hash)) +
                     "(runtime claims), which carry HCLAkPub");

  // 4. The TPM quote.
  if (options.tpm_quote) {
    const AzureTpmQuote& q = *options.tpm_quote;
    log::Debug("azure: verifying the TPM quote with HCLAkPub");
    auto a = options.nonce ? VerifyAzureTpmQuote(hcl, q, ByteSpan(*options.nonce))
                           : VerifyAzureTpmQuote(hcl, q, std::nullopt);
    if (!a.ok() && a.status().code() != Code::kRejected) return a.status();
    std::optional<std::string> ak_problem;
    std::string signer;
    if (a.ok() && !options.ak_public_area.empty()) {
      ak_problem = AkPublicAreaProblem(hcl.ak_pub.get(), options.ak_public_area, *a, &signer);
    }
    if (!a.ok() || ak_problem) {
      v.genuine = false;
      v.Reject("TPM quote: " + (ak_problem ? *ak_problem : a.status().ToString()));
      v.details["tpm_quote"] = {{"verified", false}};
    } else {
      v.checks.push_back("TPM quote signed by HCLAkPub over exactly " +
                         FormatPcrSelection(a->pcr_selection) +
                         (options.nonce ? ", extraData equals the nonce" : ""));
      if (!options.nonce) {
        v.notes.push_back("TPM quote nonce not checked (extraData " + HexEncode(a->extra_data) +
                          "): the quote may be a replay");
      }
      if (options.ak_public_area.empty()) {
        v.notes.push_back("TPM quote: qualifiedSigner not compared: no AK public area given");
      } else {
        v.checks.push_back("TPM quote: the AK's public area holds HCLAkPub, an attestation key");
        v.checks.push_back("TPM quote: " + signer);
      }
      v.details["tpm_quote"] = {{"verified", true},
                                {"pcr_selection", FormatPcrSelection(a->pcr_selection)},
                                {"nonce", HexEncode(a->extra_data)},
                                {"nonce_checked", options.nonce.has_value()}};
      if (options.expected_pcrs || options.event_log != nullptr) {
        Verdict pcr_verdict;
        ValidatePcrs(*a, q.pcrs, options.expected_pcrs, options.event_log, pcr_verdict);
        for (auto& r : pcr_verdict.reasons) v.Reject("TPM quote: " + r);
        for (auto& c : pcr_verdict.checks) v.checks.push_back("TPM quote: " + c);
      }
      out.tpm_quote = std::move(*a);
    }
  } else {
    v.notes.push_back("no TPM quote checked: the vTPM's PCRs are not covered");
  }
  out.hcl = std::move(hcl);
  v.Finish();
  log::Debug(std::string("azure: ") + (v.verified ? "verified" : "not verified"));
  return out;
}

}  // namespace cvm::tpm
