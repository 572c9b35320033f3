#include "snp/appraise.h"

#include "common/encoding.h"
#include "common/log.h"
#include "snp/report_json.h"

namespace cvm::snp {
namespace {

// The certificates to verify with: the caller's, else the VCEK and chain from KDS.
Result<std::vector<Certificate>> Endorsements(const Report& report, Product product,
                                              const AppraiseOptions& options) {
  if (!options.certs.empty()) return options.certs;
  if (options.kds == nullptr) {
    return InvalidInput("no certificates given to verify the report with (need the VCEK or VLEK)");
  }
  if (report.Signer().signing_key == SigningKey::kVlek) {
    return InvalidInput(
        "the report is signed with a VLEK, which AMD KDS does not publish: give the VLEK "
        "certificate");
  }
  if (product == Product::kUnknown) {
    return InvalidInput(
        "the report (version " + std::to_string(report.version) +
        ") does not name its product, so its VCEK cannot be fetched: name the product or give "
        "the VCEK");
  }
  log::Debug("snp: fetching the VCEK for " + std::string(ProductName(product)) + " from " +
             VcekUrl(report, product));
  CVM_ASSIGN_OR_RETURN(KdsCerts fetched, FetchVcek(*options.kds, report, product));
  std::vector<Certificate> certs{fetched.vcek};
  certs.insert(certs.end(), fetched.chain.begin(), fetched.chain.end());
  return certs;
}

}  // namespace

Result<Appraisal> Appraise(ByteSpan report_bytes, const AppraiseOptions& options,
                           const Clock& clock) {
  const TimePoint at = clock.Now();
  CVM_ASSIGN_OR_RETURN(Report report, ParseReport(report_bytes));
  log::Debug("snp: parsed a version " + std::to_string(report.version) + " report (" +
             std::to_string(report_bytes.size()) + " bytes)");
  Appraisal out;
  Verdict& v = out.verdict;
  v.tee = "snp";
  Product cpuid = ProductFromCpuid(report);
  Product product = cpuid != Product::kUnknown ? cpuid : options.product;
  v.measurement = HexEncode(report.measurement);
  v.report_data = HexEncode(report.report_data);
  v.report = ReportToJson(report, product);

  // 2. The caller's product against the report's own word.
  if (options.product != Product::kUnknown && cpuid != Product::kUnknown &&
      options.product != cpuid) {
    v.Reject("the report's CPUID says " + std::string(ProductName(cpuid)) + " but " +
             std::string(ProductName(options.product)) + " was expected");
  }
  log::Debug("snp: product " + std::string(ProductName(product)) + " (CPUID " +
             std::string(ProductName(cpuid)) + ", expected " +
             std::string(ProductName(options.product)) + ")");

  // 3. Certificates.
  CVM_ASSIGN_OR_RETURN(std::vector<Certificate> certs,
                       Endorsements(report, product, options).WithContext(kCertsContext));

  // 4. Verification.
  VerifyOptions vo;
  vo.certs = std::move(certs);
  vo.roots = options.roots;
  vo.crls = options.crls;
  vo.at = at;
  vo.product = options.product;
  vo.chain_cache = options.chain_cache;
  log::Debug("snp: verifying the chain of " + std::to_string(vo.certs.size()) +
             " certificate(s) to " +
             (vo.roots.empty() ? std::string("AMD's built-in ARK")
                               : std::to_string(vo.roots.size()) + " given root(s)") +
             " at " + FormatTime(at) + " with " + std::to_string(vo.crls.size()) + " CRL(s)");
  auto verified = VerifyReport(report_bytes, vo);
  if (!verified.ok() && verified.status().code() != Code::kRejected) return verified.status();
  if (!verified.ok()) {
    log::Debug("snp: verification failed: " + verified.status().ToString());
    v.Reject(verified.status().ToString());
    v.Finish();
    return out;
  }
  v.genuine = true;
  product = verified->product;
  v.product = std::string(ProductName(product));
  v.tcb = TcbToString(DecodeTcb(report.reported_tcb, product), product);
  v.report = ReportToJson(report, product);
  const std::string key = std::string(SigningKeyName(verified->signing_key));
  v.checks = {
      "certificate chain " + verified->endorsement_key.CommonName() + " -> " +
          (vo.roots.empty() ? "AMD ARK (built in)" : "the given root") + " at " + FormatTime(at),
      "report signature by the " + key + " (ECDSA P-384 SHA-384)",
      "the " + key + "'s TCB extensions equal REPORTED_TCB" +
          (verified->signing_key == SigningKey::kVcek && !report.Signer().mask_chip_id
               ? " and its hwID equals CHIP_ID"
               : ""),
  };
  if (!vo.crls.empty()) {
    v.checks.push_back("revocation against " + std::to_string(vo.crls.size()) + " CRL(s)");
  } else {
    v.notes.push_back("revocation not checked: no CRL given");
  }
  v.details["signing_key"] = key;
  v.details["endorsement_key"] = verified->endorsement_key.CommonName();
  v.details["root"] = vo.roots.empty() ? "AMD ARK (built in)" : vo.roots.front().Subject();
  v.details["crls"] = vo.crls.size();
  log::Debug("snp: genuine: " + v.checks[1] + "; " + v.checks[2] + "; TCB " + v.tcb);

  // 5. Validation: every violation.
  std::vector<std::string> violations = FindViolations(report, product, options.expected);
  v.checks.push_back("expected values (guest policy: DEBUG " +
                     std::string(options.expected.allow_debug ? "allowed" : "refused") +
                     ", MIGRATE_MA " + (options.expected.allow_migrate_ma ? "allowed" : "refused") +
                     ")");
  for (auto& violation : violations) {
    log::Debug("snp: violation: " + violation);
    v.Reject(std::move(violation));
  }
  if (options.expected.allow_debug && DecodePolicy(report.policy).debug) {
    v.notes.push_back("the guest policy allows DEBUG (the hypervisor can read guest memory)");
  }
  out.verified = std::move(*verified);
  v.Finish();
  log::Debug(std::string("snp: ") + (v.verified ? "verified" : "not verified"));
  return out;
}

}  // namespace cvm::snp
