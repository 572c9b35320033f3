#include "snp/sim.h"

#include <openssl/rand.h>

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/file_util.h"
#include "common/keys.h"
#include "common/signature.h"
#include "snp/vcek.h"

namespace cvm::snp {
namespace {

using std::chrono::hours;
constexpr auto kYear = hours(24 * 365);

std::vector<std::pair<std::string, std::string>> AmdName(const std::string& cn) {
  return {{"OU", "Engineering"},
          {"C", "US"},
          {"L", "Santa Clara"},
          {"ST", "CA"},
          {"O", "Advanced Micro Devices (cvm-agent simulation)"},
          {"CN", cn}};
}

void CpuidFor(Product p, Report& r) {
  switch (p) {
    case Product::kMilan:
      r.cpuid_fam_id = 0x19;
      r.cpuid_mod_id = 0x01;
      r.cpuid_step = 0x01;
      break;
    case Product::kGenoa:
      r.cpuid_fam_id = 0x19;
      r.cpuid_mod_id = 0x11;
      r.cpuid_step = 0x01;
      break;
    case Product::kTurin:
      r.cpuid_fam_id = 0x1A;
      r.cpuid_mod_id = 0x02;
      r.cpuid_step = 0x01;
      break;
    case Product::kUnknown:
      break;
  }
}

Result<Certificate> IssueCa(const std::string& cn, uint64_t serial, const EVP_PKEY* key,
                            const Certificate* issuer, const EVP_PKEY* issuer_key, TimePoint from,
                            std::optional<int> path_len) {
  CertSpec s;
  s.subject = AmdName(cn);
  s.serial = serial;
  s.not_before = from;
  s.not_after = from + 25 * kYear;
  s.is_ca = true;
  s.path_len = path_len;
  s.key_usage = "critical,keyCertSign,cRLSign";
  s.digest = DigestAlg::kSha384;
  s.rsa_pss = true;
  return IssueCertificate(s, key, issuer, issuer_key);
}

Status WritePem(const std::string& path, const std::string& pem, mode_t mode) {
  return WriteFileAtomic(path, pem, mode);
}

// Private keys are read through ReadSecretFile, so no unwiped copy of the PEM stays in memory.
Result<ossl::PKey> LoadKey(const std::string& path) {
  CVM_ASSIGN_OR_RETURN(SecretBytes pem, ReadSecretFile(path, 1 << 16));
  return PrivateKeyFromPem(pem.chars()).WithContext(path);
}

Result<Certificate> LoadCert(const std::string& path) {
  CVM_ASSIGN_OR_RETURN(std::string pem, ReadTextFile(path, 1 << 16));
  return Certificate::FromPem(pem).WithContext(path);
}

nlohmann::json PlatformToJson(const SimPlatform& p) {
  return {{"product", std::string(ProductName(p.product))},
          {"report_version", p.report_version},
          {"chip_id", HexEncode(*p.chip_id)},
          {"tcb",
           {{"fmc", p.tcb.fmc},
            {"bootloader", p.tcb.bootloader},
            {"tee", p.tcb.tee},
            {"snp", p.tcb.snp},
            {"microcode", p.tcb.microcode}}},
          {"fw", {{"build", p.fw_build}, {"minor", p.fw_minor}, {"major", p.fw_major}}},
          {"platform_info", p.platform_info}};
}

Result<SimPlatform> PlatformFromJson(const std::string& text) {
  SimPlatform p;
  try {
    auto j = nlohmann::json::parse(text);
    CVM_ASSIGN_OR_RETURN(p.product, ParseProduct(j.at("product").get<std::string>()));
    p.report_version = j.at("report_version").get<uint32_t>();
    CVM_ASSIGN_OR_RETURN(Bytes chip, HexDecodeFixed(j.at("chip_id").get<std::string>(), 64));
    std::array<uint8_t, 64> c{};
    std::copy(chip.begin(), chip.end(), c.begin());
    p.chip_id = c;
    const auto& t = j.at("tcb");
    p.tcb = {t.at("fmc").get<uint8_t>(), t.at("bootloader").get<uint8_t>(),
             t.at("tee").get<uint8_t>(), t.at("snp").get<uint8_t>(),
             t.at("microcode").get<uint8_t>()};
    const auto& fw = j.at("fw");
    p.fw_build = fw.at("build").get<uint8_t>();
    p.fw_minor = fw.at("minor").get<uint8_t>();
    p.fw_major = fw.at("major").get<uint8_t>();
    p.platform_info = j.at("platform_info").get<uint64_t>();
  } catch (const nlohmann::json::exception& e) {
    return InvalidInput(std::string("sim.json: ") + e.what());
  }
  return p;
}

}  // namespace

Result<Certificate> IssueSimVcek(const SimPlatform& p, const EVP_PKEY* vcek_key,
                                 const Certificate& ask, const EVP_PKEY* ask_key) {
  const bool turin = UsesTurinLayout(p.product);
  CertSpec s;
  s.subject = AmdName("SEV-VCEK");
  s.serial = 0;  // AMD's VCEKs carry serial 0
  s.not_before = p.not_before;
  s.not_after = p.not_before + 7 * kYear;
  s.digest = DigestAlg::kSha384;
  s.rsa_pss = true;
  auto ext = [&s](const char* oid, Bytes der) {
    s.extensions.push_back({oid, std::move(der), false});
  };
  ext(kOidStructVersion, EncodeDerInteger(turin ? 1 : 0));
  ext(kOidProductName, EncodeDerIa5String(ProductName(p.product)));
  ext(kOidBlSpl, EncodeDerInteger(p.tcb.bootloader));
  ext(kOidTeeSpl, EncodeDerInteger(p.tcb.tee));
  ext(kOidSnpSpl, EncodeDerInteger(p.tcb.snp));
  for (int i = turin ? 5 : 4; i <= 7; ++i) {
    std::string oid = "1.3.6.1.4.1.3704.1.3." + std::to_string(i);
    s.extensions.push_back({oid, EncodeDerInteger(0), false});
  }
  ext(kOidUcodeSpl, EncodeDerInteger(p.tcb.microcode));
  if (turin) ext(kOidFmcSpl, EncodeDerInteger(p.tcb.fmc));
  std::array<uint8_t, 64> chip = p.chip_id.value_or(std::array<uint8_t, 64>{});
  ext(kOidHwId, Bytes(chip.begin(), chip.begin() + (turin ? 8 : 64)));
  return IssueCertificate(s, vcek_key, &ask, ask_key);
}

SimSnp::SimSnp(SimPlatform platform, ossl::PKey ark_key, ossl::PKey ask_key, ossl::PKey vcek_key,
               Certificate ark, Certificate ask, Certificate vcek)
    : platform_(platform),
      ark_key_(std::move(ark_key)),
      ask_key_(std::move(ask_key)),
      vcek_key_(std::move(vcek_key)),
      ark_(std::move(ark)),
      ask_(std::move(ask)),
      vcek_(std::move(vcek)) {}

Result<SimSnp> SimSnp::Create(const SimPlatform& in, const std::string& dir) {
  SimPlatform p = in;
  if (p.product == Product::kUnknown) return InvalidInput("sim: the product must be named");
  if (p.report_version != 2 && p.report_version != 3 && p.report_version != 5) {
    return InvalidInput("sim: report version " + std::to_string(p.report_version) +
                        " (the simulator emits 2, 3 or 5)");
  }
  if (!p.chip_id) {
    std::array<uint8_t, 64> chip{};
    size_t n = UsesTurinLayout(p.product) ? 8 : 64;
    if (RAND_bytes(chip.data(), static_cast<int>(n)) != 1) return ossl::Error("RAND_bytes");
    p.chip_id = chip;
  }
  std::string name(ProductName(p.product));
  CVM_ASSIGN_OR_RETURN(ossl::PKey ark_key, GenerateRsaKey(4096));
  CVM_ASSIGN_OR_RETURN(ossl::PKey ask_key, GenerateRsaKey(4096));
  CVM_ASSIGN_OR_RETURN(ossl::PKey vcek_key, GenerateEcKey(Curve::kP384));
  CVM_ASSIGN_OR_RETURN(Certificate ark, IssueCa("ARK-" + name, 0x10000, ark_key.get(), nullptr,
                                                ark_key.get(), p.not_before, std::nullopt));
  CVM_ASSIGN_OR_RETURN(Certificate ask, IssueCa("SEV-" + name, 0x10001, ask_key.get(), &ark,
                                                ark_key.get(), p.not_before, 0));
  CVM_ASSIGN_OR_RETURN(Certificate vcek, IssueSimVcek(p, vcek_key.get(), ask, ask_key.get()));
  if (!dir.empty()) {
    CVM_RETURN_IF_ERROR(MakeDirs(dir, 0700));
    for (auto [file, key] :
         {std::pair{"ark.key", ark_key.get()}, std::pair{"ask.key", ask_key.get()},
          std::pair{"vcek.key", vcek_key.get()}}) {
      CVM_ASSIGN_OR_RETURN(SecretBytes pem, PrivateKeyToPem(key));
      CVM_RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + file, pem.view(), 0600));
    }
    CVM_RETURN_IF_ERROR(WritePem(dir + "/ark.pem", ark.Pem(), 0644));
    CVM_RETURN_IF_ERROR(WritePem(dir + "/ask.pem", ask.Pem(), 0644));
    CVM_RETURN_IF_ERROR(WritePem(dir + "/vcek.pem", vcek.Pem(), 0644));
    CVM_RETURN_IF_ERROR(WriteFileAtomic(dir + "/sim.json", PlatformToJson(p).dump(2) + "\n", 0644));
  }
  return SimSnp(p, std::move(ark_key), std::move(ask_key), std::move(vcek_key), std::move(ark),
                std::move(ask), std::move(vcek));
}

Result<SimSnp> SimSnp::Load(const std::string& dir) { return LoadState(dir, true); }

Result<SimSnp> SimSnp::LoadFirmware(const std::string& dir) { return LoadState(dir, false); }

Result<SimSnp> SimSnp::LoadState(const std::string& dir, bool ca_keys) {
  CVM_ASSIGN_OR_RETURN(std::string json, ReadTextFile(dir + "/sim.json", 1 << 16));
  CVM_ASSIGN_OR_RETURN(SimPlatform p, PlatformFromJson(json));
  ossl::PKey ark_key, ask_key;
  if (ca_keys) {
    CVM_ASSIGN_OR_RETURN(ark_key, LoadKey(dir + "/ark.key"));
    CVM_ASSIGN_OR_RETURN(ask_key, LoadKey(dir + "/ask.key"));
  }
  CVM_ASSIGN_OR_RETURN(ossl::PKey vcek_key, LoadKey(dir + "/vcek.key"));
  CVM_ASSIGN_OR_RETURN(Certificate ark, LoadCert(dir + "/ark.pem"));
  CVM_ASSIGN_OR_RETURN(Certificate ask, LoadCert(dir + "/ask.pem"));
  CVM_ASSIGN_OR_RETURN(Certificate vcek, LoadCert(dir + "/vcek.pem"));
  return SimSnp(p, std::move(ark_key), std::move(ask_key), std::move(vcek_key), std::move(ark),
                std::move(ask), std::move(vcek));
}

Report SimSnp::UnsignedReport(const SimReportRequest& q) const {
  const SimPlatform& p = platform_;
  Report r;
  r.version = p.report_version;
  r.guest_svn = q.guest_svn;
  r.policy = q.policy | kPolicyReservedOne;
  r.family_id = q.family_id;
  r.image_id = q.image_id;
  r.vmpl = q.vmpl;
  r.signature_algo = kSignatureAlgoEcdsaP384Sha384;
  uint64_t tcb = EncodeTcb(p.tcb, p.product);
  r.current_tcb = r.reported_tcb = r.committed_tcb = r.launch_tcb = tcb;
  r.platform_info = p.platform_info;
  r.signer_info = (q.author_key_en ? 1u : 0u) | (q.mask_chip_id ? 2u : 0u);  // VCEK
  r.report_data = q.report_data;
  r.measurement = q.measurement;
  r.host_data = q.host_data;
  r.id_key_digest = q.id_key_digest;
  r.author_key_digest = q.author_key_digest;
  if (RAND_bytes(r.report_id.data(), static_cast<int>(r.report_id.size())) != 1) {
    ossl::ClearErrors();
  }
  r.report_id_ma.fill(0xff);  // no migration agent
  if (r.HasCpuid()) CpuidFor(p.product, r);
  if (!q.mask_chip_id) r.chip_id = *p.chip_id;
  r.current_build = r.committed_build = p.fw_build;
  r.current_minor = r.committed_minor = p.fw_minor;
  r.current_major = r.committed_major = p.fw_major;
  return r;
}

Result<Bytes> SimSnp::Sign(Report r) const {
  r.signature_r.fill(0);
  r.signature_s.fill(0);
  Bytes bytes = SerializeReport(r);
  CVM_ASSIGN_OR_RETURN(Bytes der, SignEcdsaDer(vcek_key_.get(), DigestAlg::kSha384,
                                               ByteSpan(bytes).first(kSignedSize)));
  CVM_ASSIGN_OR_RETURN(Bytes raw, EcdsaDerToRaw(der, 48));
  // r and s are big-endian in `raw`; the report stores them little-endian, zero-extended to 72.
  for (size_t i = 0; i < 48; ++i) {
    bytes[kSignatureOffset + i] = raw[47 - i];
    bytes[kSignatureOffset + kSignatureComponentSize + i] = raw[95 - i];
  }
  return bytes;
}

Result<Bytes> SimSnp::MakeReport(const SimReportRequest& request) const {
  return Sign(UnsignedReport(request));
}

}  // namespace cvm::snp
