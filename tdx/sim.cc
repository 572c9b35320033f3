#include "tdx/sim.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "common/digest.h"
#include "common/encoding.h"
#include "common/file_util.h"
#include "common/keys.h"
#include "common/signature.h"
#include "tdx/report.h"

namespace cvm::tdx {
namespace {

using std::chrono::hours;
using ojson = nlohmann::ordered_json;

constexpr const char* kOrg = "cvm-agent simulator";
// QE identity values of the simulated quoting enclave (TD_QE, like Intel's: ISVPRODID 2).
constexpr uint16_t kQeProdId = 2;
constexpr uint16_t kQeSvn = 4;
const Bytes& QeMrsigner() {
  static const Bytes b = Sha256(AsBytes("cvm-agent simulated QE signer"));
  return b;
}
const Bytes& QeAttributes() {
  static const Bytes b = [] {
    Bytes a(16, 0);
    a[0] = 0x11;  // INIT | MODE64BIT, as Intel's TD_QE
    return a;
  }();
  return b;
}

CertSpec Spec(const std::string& cn, uint64_t serial, TimePoint now, bool ca,
              std::optional<int> path_len) {
  CertSpec s;
  s.subject = {{"CN", cn}, {"O", kOrg}, {"L", "Santa Clara"}, {"ST", "CA"}, {"C", "US"}};
  s.serial = serial;
  s.not_before = now - hours(24);
  s.not_after = now + hours(24 * 365 * 10);
  s.is_ca = ca;
  s.path_len = path_len;
  s.key_usage = ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,nonRepudiation";
  s.digest = DigestAlg::kSha256;
  return s;
}

Bytes Pad(ByteSpan b, size_t n) {
  Bytes out(b.begin(), b.end());
  out.resize(n, 0);
  return out;
}

Result<Bytes> SignRaw(const EVP_PKEY* key, ByteSpan data) {
  CVM_ASSIGN_OR_RETURN(Bytes der, SignEcdsaDer(key, DigestAlg::kSha256, data));
  return EcdsaDerToRaw(der, 32);
}

void Put(Bytes& out, ByteSpan b) { out.insert(out.end(), b.begin(), b.end()); }
void PutLe16(Bytes& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}
void PutLe32(Bytes& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
Bytes Le64(uint64_t v) {
  Bytes b(8);
  StoreLe64(b, 0, v);
  return b;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

ojson Components(const std::array<uint8_t, 16>& svns) {
  ojson arr = ojson::array();
  for (uint8_t v : svns) arr.push_back({{"svn", v}});
  return arr;
}

}  // namespace

Bytes SimTdx::TeeTcbSvn() {
  Bytes svn(16, 0);
  svn[0] = 3;  // TDX module SVN
  svn[1] = 1;  // TDX module major version 1: identity "TDX_01"
  svn[2] = 2;  // late microcode
  return svn;
}

Result<SimTdx> SimTdx::Create(TimePoint now) {
  SimTdx s;
  CVM_ASSIGN_OR_RETURN(s.root_key_, GenerateEcKey(Curve::kP256));
  CVM_ASSIGN_OR_RETURN(s.ca_key_, GenerateEcKey(Curve::kP256));
  CVM_ASSIGN_OR_RETURN(s.pck_key_, GenerateEcKey(Curve::kP256));
  CVM_ASSIGN_OR_RETURN(s.tcb_key_, GenerateEcKey(Curve::kP256));
  CVM_ASSIGN_OR_RETURN(s.att_key_, GenerateEcKey(Curve::kP256));
  CVM_ASSIGN_OR_RETURN(Certificate root,
                       IssueCertificate(Spec("Simulated SGX Root CA", 1, now, true, 1),
                                        s.root_key_.get(), nullptr, s.root_key_.get()));
  CVM_ASSIGN_OR_RETURN(Certificate ca,
                       IssueCertificate(Spec("Simulated SGX PCK Platform CA", 2, now, true, 0),
                                        s.ca_key_.get(), &root, s.root_key_.get()));
  CVM_ASSIGN_OR_RETURN(
      Certificate tcb,
      IssueCertificate(Spec("Simulated SGX TCB Signing", 3, now, false, std::nullopt),
                       s.tcb_key_.get(), &root, s.root_key_.get()));
  s.ext_.ppid = Sha256(AsBytes("cvm-agent simulated PPID"));
  s.ext_.ppid.resize(16);
  s.ext_.tcb_comps = {2, 2, 2, 2, 3, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0};
  s.ext_.pce_svn = 11;
  s.ext_.cpu_svn = Bytes(s.ext_.tcb_comps.begin(), s.ext_.tcb_comps.end());
  s.ext_.pce_id = {0, 0};
  s.ext_.fmspc = {0x00, 0xc0, 0xff, 0xee, 0x00, 0x00};
  s.ext_.sgx_type = 1;
  CVM_ASSIGN_OR_RETURN(Bytes ext_der, EncodePckExtensions(s.ext_));
  CertSpec leaf = Spec("Simulated SGX PCK Certificate", 4, now, false, std::nullopt);
  leaf.extensions.push_back({kSgxExtensionOid, ext_der, false});
  CVM_ASSIGN_OR_RETURN(Certificate pck,
                       IssueCertificate(leaf, s.pck_key_.get(), &ca, s.ca_key_.get()));
  s.root_ = root;
  s.ca_ = ca;
  s.tcb_ = tcb;
  s.pck_ = pck;
  return s;
}

Status SimTdx::Save(const std::string& dir) const {
  CVM_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  ojson j;
  const std::pair<const char*, const ossl::PKey*> keys[] = {{"root_key", &root_key_},
                                                            {"ca_key", &ca_key_},
                                                            {"pck_key", &pck_key_},
                                                            {"tcb_key", &tcb_key_},
                                                            {"attestation_key", &att_key_}};
  // The keys pass through the JSON document and its text; both are wiped once written.
  // (nlohmann's dump grows its string as it writes, which this cannot reach: simulator keys only.)
  auto wipe_keys = [&] {
    for (const auto& [name, key] : keys) {
      if (j.contains(name)) WipeString(j[name].get_ref<std::string&>());
    }
  };
  for (const auto& [name, key] : keys) {
    auto pem = PrivateKeyToPem(key->get());
    if (!pem.ok()) {
      wipe_keys();
      return pem.status();
    }
    j[name] = std::string(pem->chars());
  }
  j["root"] = root_->Pem();
  j["ca"] = ca_->Pem();
  j["pck"] = pck_->Pem();
  j["tcb"] = tcb_->Pem();
  std::string text = j.dump(2);
  wipe_keys();
  Status written = WriteFileAtomic(dir + "/sim-tdx.json", text, 0600);
  WipeString(text);
  CVM_RETURN_IF_ERROR(written);
  return WriteFileAtomic(dir + "/root.pem", root_->Pem(), 0644);
}

Result<SimTdx> SimTdx::Load(const std::string& dir) {
  const std::string path = dir + "/sim-tdx.json";
  CVM_ASSIGN_OR_RETURN(SecretBytes text, ReadSecretFile(path, 1 << 20));
  auto j = nlohmann::json::parse(text.view().begin(), text.view().end(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return InvalidInput(path + ": not a simulator state file");
  SimTdx s;
  auto str = [&](const char* k) -> Result<std::string> {
    auto it = j.find(k);
    if (it == j.end() || !it->is_string()) return InvalidInput(path + ": missing \"" + k + "\"");
    return it->get<std::string>();
  };
  const std::pair<const char*, ossl::PKey*> keys[] = {{"root_key", &s.root_key_},
                                                      {"ca_key", &s.ca_key_},
                                                      {"pck_key", &s.pck_key_},
                                                      {"tcb_key", &s.tcb_key_},
                                                      {"attestation_key", &s.att_key_}};
  Status keys_ok = Status::Ok();
  for (const auto& [name, key] : keys) {
    auto pem = str(name);
    if (!pem.ok()) {
      keys_ok = pem.status();
      break;
    }
    auto parsed = PrivateKeyFromPem(*pem);
    WipeString(*pem);
    if (!parsed.ok()) {
      keys_ok = parsed.status().WithContext(path);
      break;
    }
    *key = std::move(*parsed);
  }
  for (const auto& [name, key] : keys) {
    if (auto it = j.find(name); it != j.end() && it->is_string()) {
      WipeString(it->get_ref<std::string&>());
    }
  }
  CVM_RETURN_IF_ERROR(keys_ok);
  const std::pair<const char*, std::optional<Certificate>*> certs[] = {
      {"root", &s.root_}, {"ca", &s.ca_}, {"pck", &s.pck_}, {"tcb", &s.tcb_}};
  for (const auto& [name, cert] : certs) {
    CVM_ASSIGN_OR_RETURN(std::string pem, str(name));
    CVM_ASSIGN_OR_RETURN(Certificate c, Certificate::FromPem(pem));
    *cert = std::move(c);
  }
  auto ext = PckExtensionsOf(*s.pck_);
  if (!ext.ok()) return ext.status().WithContext(path);
  s.ext_ = std::move(*ext);
  return s;
}

namespace {

// The TD's measurements and the simulated TDX module's identity, as one quote body.
Result<TdQuoteBody> SimBody(const SimQuoteOptions& o) {
  if (o.version != 4 && o.version != 5) return InvalidInput("sim: quote version must be 4 or 5");
  if (o.report_data.size() > 64) return InvalidInput("sim: report data is longer than 64 bytes");
  TdQuoteBody b;
  b.tee_tcb_svn = SimTdx::TeeTcbSvn();
  b.mrseam = Sha384(AsBytes("cvm-agent simulated TDX module"));
  b.mrsignerseam = Bytes(48, 0);  // Intel's TDX module: all zero
  b.seam_attributes = Bytes(8, 0);
  b.td_attributes = Le64(o.td_attributes);
  b.xfam = Le64(o.xfam);
  b.mrtd = o.mrtd.value_or(Sha384(AsBytes("cvm-agent simulated TD")));
  b.mrconfigid = o.mrconfigid.value_or(Bytes(48, 0));
  b.mrowner = Bytes(48, 0);
  b.mrownerconfig = Bytes(48, 0);
  for (size_t i = 0; i < 4; ++i) b.rtmr[i] = o.rtmr[i].value_or(Bytes(48, 0));
  b.report_data = Pad(o.report_data, 64);
  for (const Bytes* f : {&b.mrtd, &b.mrconfigid, &b.rtmr[0], &b.rtmr[1], &b.rtmr[2], &b.rtmr[3]}) {
    if (f->size() != 48) return InvalidInput("sim: measurements must be 48 bytes");
  }
  if (o.version == 5) {
    b.tee_tcb_svn2 = SimTdx::TeeTcbSvn();
    b.mrservicetd = Bytes(48, 0);
  }
  return b;
}

}  // namespace

Result<Bytes> SimTdx::MakeQuote(const SimQuoteOptions& o) const {
  CVM_ASSIGN_OR_RETURN(TdQuoteBody b, SimBody(o));
  return SignQuote(b, o.version);
}

Result<Bytes> SimTdx::MakeTdReport(const SimQuoteOptions& o) {
  CVM_ASSIGN_OR_RETURN(TdQuoteBody b, SimBody(o));
  Bytes r(kTdReportSize, 0);
  auto put = [&r](size_t offset, const Bytes& field) {
    std::copy(field.begin(), field.end(), r.begin() + static_cast<std::ptrdiff_t>(offset));
  };
  r[0] = kReportTypeTdx;  // subtype 0, version 0 (TDX 1.0)
  // TEE_TCB_INFO at 256: valid bits for TEE_TCB_SVN, MRSEAM, MRSIGNERSEAM and ATTRIBUTES.
  put(256, Bytes{0xff, 0x01, 0, 0, 0, 0, 0, 0});
  put(256 + 8, b.tee_tcb_svn);
  put(256 + 24, b.mrseam);
  put(256 + 72, b.mrsignerseam);
  put(256 + 120, b.seam_attributes);
  // TDINFO at 512.
  put(512, b.td_attributes);
  put(512 + 8, b.xfam);
  put(512 + 16, b.mrtd);
  put(512 + 64, b.mrconfigid);
  put(512 + 112, b.mrowner);
  put(512 + 160, b.mrownerconfig);
  for (size_t i = 0; i < 4; ++i) put(512 + 208 + 48 * i, b.rtmr[i]);
  // REPORTMACSTRUCT: the two hashes, REPORTDATA; the MAC stays zero (checked only on-platform).
  put(32, Sha384(ByteSpan(r).subspan(256, 239)));
  put(80, Sha384(ByteSpan(r).subspan(512, 512)));
  put(128, b.report_data);
  return r;
}

Result<Bytes> SimTdx::QuoteTdReport(ByteSpan td_report) const {
  CVM_ASSIGN_OR_RETURN(TdReport r, ParseTdReport(td_report));
  CVM_RETURN_IF_ERROR(CheckTdReportHashes(r));
  TdQuoteBody b;
  b.tee_tcb_svn = r.tee_tcb_svn;
  b.mrseam = r.mrseam;
  b.mrsignerseam = r.mrsignerseam;
  b.seam_attributes = r.seam_attributes;
  b.td_attributes = r.td_attributes;
  b.xfam = r.xfam;
  b.mrtd = r.mrtd;
  b.mrconfigid = r.mrconfigid;
  b.mrowner = r.mrowner;
  b.mrownerconfig = r.mrownerconfig;
  b.rtmr = r.rtmr;
  b.report_data = r.report_data;
  return SignQuote(b, 4);
}

Result<Bytes> SimTdx::SignQuote(const TdQuoteBody& b, int version) const {
  Bytes q;
  PutLe16(q, static_cast<uint16_t>(version));
  PutLe16(q, kAttKeyTypeEcdsaP256);
  PutLe32(q, kTeeTypeTdx);
  PutLe16(q, 0);  // reserved (PCE SVN in go-tdx-guest's naming)
  PutLe16(q, 0);  // reserved (QE SVN)
  CVM_ASSIGN_OR_RETURN(Bytes vendor, HexDecode("939a7233f79c4ca9940a0db3957f0607"));
  Put(q, vendor);
  Put(q, Bytes(20, 0));
  Bytes body = EncodeBody(b);
  if (version == 5) {
    PutLe16(q, kBodyTypeTd15);
    PutLe32(q, static_cast<uint32_t>(body.size()));
  }
  Put(q, body);

  CVM_ASSIGN_OR_RETURN(Bytes att_pub, EcPublicKeyXY(att_key_.get()));
  Bytes auth = Sha256(AsBytes("cvm-agent simulated QE auth data"));
  // The QE report (SGX REPORT body) binding the attestation key.
  Bytes qe(kQeReportSize, 0);
  std::copy(ext_.cpu_svn.begin(), ext_.cpu_svn.end(), qe.begin());
  std::copy(QeAttributes().begin(), QeAttributes().end(), qe.begin() + 48);
  Bytes mrenclave = Sha256(AsBytes("cvm-agent simulated QE"));
  std::copy(mrenclave.begin(), mrenclave.end(), qe.begin() + 64);
  std::copy(QeMrsigner().begin(), QeMrsigner().end(), qe.begin() + 128);
  StoreLe16(qe, 256, kQeProdId);
  StoreLe16(qe, 258, kQeSvn);
  Hasher h(DigestAlg::kSha256);
  h.Update(att_pub).Update(auth);
  Bytes bind = h.Finish();
  std::copy(bind.begin(), bind.end(), qe.begin() + 320);
  CVM_ASSIGN_OR_RETURN(Bytes qe_sig, SignRaw(pck_key_.get(), qe));

  std::string chain = pck_->Pem() + ca_->Pem() + root_->Pem();
  Bytes cert6;
  Put(cert6, qe);
  Put(cert6, qe_sig);
  PutLe16(cert6, static_cast<uint16_t>(auth.size()));
  Put(cert6, auth);
  PutLe16(cert6, kCertDataPckChain);
  PutLe32(cert6, static_cast<uint32_t>(chain.size()));
  Put(cert6, AsBytes(chain));

  CVM_ASSIGN_OR_RETURN(Bytes sig, SignRaw(att_key_.get(), q));
  Bytes sig_data;
  Put(sig_data, sig);
  Put(sig_data, att_pub);
  PutLe16(sig_data, kCertDataQeReport);
  PutLe32(sig_data, static_cast<uint32_t>(cert6.size()));
  Put(sig_data, cert6);
  PutLe32(q, static_cast<uint32_t>(sig_data.size()));
  Put(q, sig_data);
  return q;
}

Result<Collateral> SimTdx::MakeCollateral(TimePoint now) const {
  TimePoint issue = now - hours(1), next = now + hours(24 * 30);
  std::string issue_s = FormatTime(issue), next_s = FormatTime(next);
  std::string zeros48 = std::string(96, '0');

  ojson module_level = {{"tcb", {{"isvsvn", SimTdx::TeeTcbSvn()[0]}}},
                        {"tcbDate", "2024-03-13T00:00:00Z"},
                        {"tcbStatus", "UpToDate"}};
  ojson info = {
      {"id", "TDX"},
      {"version", 3},
      {"issueDate", issue_s},
      {"nextUpdate", next_s},
      {"fmspc", Upper(HexEncode(ext_.fmspc))},
      {"pceId", Upper(HexEncode(ext_.pce_id))},
      {"tcbType", 0},
      {"tcbEvaluationDataNumber", 17},
      {"tdxModule",
       {{"mrsigner", zeros48},
        {"attributes", "0000000000000000"},
        {"attributesMask", "FFFFFFFFFFFFFFFF"}}},
      {"tdxModuleIdentities", ojson::array({{{"id", "TDX_01"},
                                             {"mrsigner", zeros48},
                                             {"attributes", "0000000000000000"},
                                             {"attributesMask", "FFFFFFFFFFFFFFFF"},
                                             {"tcbLevels", ojson::array({module_level})}}})}};
  std::array<uint8_t, 16> tdx{};
  Bytes svn = TeeTcbSvn();
  std::copy(svn.begin(), svn.end(), tdx.begin());
  std::array<uint8_t, 16> old_sgx = ext_.tcb_comps;
  old_sgx[0] = 1;
  ojson up = {{"tcb",
               {{"sgxtcbcomponents", Components(ext_.tcb_comps)},
                {"pcesvn", ext_.pce_svn},
                {"tdxtcbcomponents", Components(tdx)}}},
              {"tcbDate", "2024-03-13T00:00:00Z"},
              {"tcbStatus", "UpToDate"}};
  ojson old = {{"tcb",
                {{"sgxtcbcomponents", Components(old_sgx)},
                 {"pcesvn", 5},
                 {"tdxtcbcomponents", Components(tdx)}}},
               {"tcbDate", "2018-01-04T00:00:00Z"},
               {"tcbStatus", "OutOfDate"},
               {"advisoryIDs", {"INTEL-SA-00106", "INTEL-SA-00115"}}};
  info["tcbLevels"] = ojson::array({up, old});

  ojson qe = {{"id", "TD_QE"},
              {"version", 2},
              {"issueDate", issue_s},
              {"nextUpdate", next_s},
              {"tcbEvaluationDataNumber", 17},
              {"miscselect", "00000000"},
              {"miscselectMask", "FFFFFFFF"},
              {"attributes", Upper(HexEncode(QeAttributes()))},
              {"attributesMask", "FBFFFFFFFFFFFFFF0000000000000000"},
              {"mrsigner", Upper(HexEncode(QeMrsigner()))},
              {"isvprodid", kQeProdId},
              {"tcbLevels", ojson::array({{{"tcb", {{"isvsvn", kQeSvn}}},
                                           {"tcbDate", "2024-03-13T00:00:00Z"},
                                           {"tcbStatus", "UpToDate"}}})}};
  Collateral c;
  c.tcb_info = info.dump();
  c.qe_identity = qe.dump();
  CVM_ASSIGN_OR_RETURN(c.tcb_info_signature, SignRaw(tcb_key_.get(), AsBytes(c.tcb_info)));
  CVM_ASSIGN_OR_RETURN(c.qe_identity_signature, SignRaw(tcb_key_.get(), AsBytes(c.qe_identity)));
  CVM_ASSIGN_OR_RETURN(Crl root_crl, IssueCrl(*root_, root_key_.get(), {}, issue, next));
  CVM_ASSIGN_OR_RETURN(Crl pck_crl, IssueCrl(*ca_, ca_key_.get(), {}, issue, next));
  c.root_ca_crl = root_crl.Der();
  c.pck_crl = pck_crl.Der();
  c.pck_crl_issuer_chain = ca_->Pem() + root_->Pem();
  c.tcb_info_issuer_chain = tcb_->Pem() + root_->Pem();
  c.qe_identity_issuer_chain = c.tcb_info_issuer_chain;
  return c;
}

}  // namespace cvm::tdx
