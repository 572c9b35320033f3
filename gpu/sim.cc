#include "gpu/sim.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>

#include "common/digest.h"
#include "common/signature.h"

namespace cvm::gpu {
namespace {

using std::chrono::hours;

// DER TLV with OpenSSL's encoder.
Bytes Tlv(int tag, int cls, bool constructed, ByteSpan content) {
  int total = ASN1_object_size(constructed ? 1 : 0, static_cast<int>(content.size()), tag);
  Bytes out(static_cast<size_t>(total));
  unsigned char* p = out.data();
  ASN1_put_object(&p, constructed ? 1 : 0, static_cast<int>(content.size()), tag, cls);
  std::copy(content.begin(), content.end(), p);
  return out;
}

Bytes Concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes Sha384Oid() {
  ossl::Asn1Object obj(OBJ_nid2obj(NID_sha384));
  int n = i2d_ASN1_OBJECT(obj.get(), nullptr);
  Bytes out(static_cast<size_t>(n));
  unsigned char* p = out.data();
  i2d_ASN1_OBJECT(obj.get(), &p);
  return out;
}

// SEQUENCE { OID sha384, OCTET STRING fwid }
Bytes FwidSeq(ByteSpan fwid) {
  return Tlv(V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, true,
             Concat({Sha384Oid(), Tlv(V_ASN1_OCTET_STRING, V_ASN1_UNIVERSAL, false, fwid)}));
}

Result<CertExtension> FwidExtension(Architecture arch, ByteSpan fwid, const EVP_PKEY* key) {
  CertExtension e;
  if (arch == Architecture::kBlackwell) {
    // DICE TcbInfo: SEQUENCE { [6] IMPLICIT FWIDLIST }.
    e.oid = "2.23.133.5.4.1.1";
    e.der_value = Tlv(V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, true,
                      Tlv(6, V_ASN1_CONTEXT_SPECIFIC, true, FwidSeq(fwid)));
  } else {
    // Hopper: SEQUENCE { INTEGER 1, SubjectPublicKeyInfo, FWID }.
    e.oid = "2.23.133.5.4.1";
    int n = i2d_PUBKEY(const_cast<EVP_PKEY*>(key), nullptr);
    if (n <= 0) return Internal("i2d_PUBKEY");
    Bytes spki(static_cast<size_t>(n));
    unsigned char* p = spki.data();
    i2d_PUBKEY(const_cast<EVP_PKEY*>(key), &p);
    e.der_value =
        Tlv(V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, true,
            Concat({Tlv(V_ASN1_INTEGER, V_ASN1_UNIVERSAL, false, Bytes{1}), spki, FwidSeq(fwid)}));
  }
  return e;
}

void PutLe16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}

void PutField(Bytes& b, OpaqueType t, ByteSpan v) {
  PutLe16(b, static_cast<uint16_t>(t));
  PutLe16(b, static_cast<uint16_t>(v.size()));
  b.insert(b.end(), v.begin(), v.end());
}

Bytes Str(const std::string& s) {
  Bytes b(s.begin(), s.end());
  b.push_back(0);
  return b;
}

Bytes U32(uint32_t v) {
  return {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v >> 16),
          static_cast<uint8_t>(v >> 24)};
}

}  // namespace

Bytes SimGpu::Measurement(unsigned index) const {
  return Sha384(AsBytes("cvm-agent simulated gpu block " + std::to_string(index) + " driver " +
                        options_.driver_version));
}

Bytes SimGpu::Fwid() const {
  return Sha384(AsBytes("cvm-agent simulated gpu fwid " + std::to_string(options_.serial)));
}

Result<SimGpu> SimGpu::Create(const SimGpuOptions& o) {
  SimGpu g;
  g.options_ = o;
  bool bw = o.arch == Architecture::kBlackwell;
  std::string chip = bw ? "GB100" : "GH100";
  struct Level {
    std::string cn;
    bool ca;
  };
  const std::vector<Level> levels = {
      {"Simulated NVIDIA Device Identity CA", true},
      {"Simulated NVIDIA " + chip + " Identity", true},
      {"Simulated NVIDIA " + chip + " Provisioner ICA 1", true},
      {chip + " A01 GSP BROM", true},
      {chip + " A01 GSP FMC LF", false},
  };
  std::vector<Certificate> top_down;
  ossl::PKey issuer_key;
  for (size_t i = 0; i < levels.size(); ++i) {
    CVM_ASSIGN_OR_RETURN(ossl::PKey key, GenerateEcKey(Curve::kP384));
    CertSpec spec;
    spec.subject = {{"CN", levels[i].cn}, {"O", "cvm-agent simulation"}};
    spec.serial = o.serial * 100 + i + 1;
    spec.not_before = o.not_before;
    // Far in the future like NVIDIA's 9999 certificates, but within std::chrono's range.
    spec.not_after = o.not_before + hours(24 * 365 * 25);
    spec.is_ca = levels[i].ca;
    spec.key_usage = levels[i].ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature";
    if (!levels[i].ca) {
      CVM_ASSIGN_OR_RETURN(CertExtension ext, FwidExtension(o.arch, g.Fwid(), key.get()));
      spec.extensions.push_back(std::move(ext));
    }
    const Certificate* issuer = top_down.empty() ? nullptr : &top_down.back();
    CVM_ASSIGN_OR_RETURN(Certificate cert, IssueCertificate(spec, key.get(), issuer,
                                                            issuer ? issuer_key.get() : key.get()));
    top_down.push_back(std::move(cert));
    issuer_key = std::move(key);
  }
  g.leaf_key_ = std::shared_ptr<EVP_PKEY>(issuer_key.release(), EVP_PKEY_free);
  g.chain_.assign(top_down.rbegin(), top_down.rend());
  return g;
}

Result<Bytes> SimGpu::Report(ByteSpan nonce) const {
  if (nonce.size() != kNonceSize) return InvalidInput("sim gpu: nonce must be 32 bytes");
  Bytes r = {kSpdmVersion11, kGetMeasurements, 0x01, 0xFF};
  r.insert(r.end(), nonce.begin(), nonce.end());
  r.push_back(0);
  Bytes record;
  for (unsigned i = 1; i <= options_.blocks; ++i) {
    Bytes m = Measurement(i);
    record.push_back(static_cast<uint8_t>(i));
    record.push_back(kDmtfMeasurementSpec);
    PutLe16(record, static_cast<uint16_t>(3 + m.size()));
    record.push_back(1);
    PutLe16(record, static_cast<uint16_t>(m.size()));
    record.insert(record.end(), m.begin(), m.end());
  }
  Bytes resp = {kSpdmVersion11,
                kMeasurements,
                0,
                0,
                static_cast<uint8_t>(options_.blocks),
                static_cast<uint8_t>(record.size()),
                static_cast<uint8_t>(record.size() >> 8),
                static_cast<uint8_t>(record.size() >> 16)};
  resp.insert(resp.end(), record.begin(), record.end());
  Bytes responder_nonce = Sha256(nonce);
  resp.insert(resp.end(), responder_nonce.begin(), responder_nonce.end());
  Bytes opaque;
  bool bw = options_.arch == Architecture::kBlackwell;
  PutField(opaque, OpaqueType::kDriverVersion, Str(options_.driver_version));
  PutField(opaque, OpaqueType::kVbiosVersion, options_.vbios);
  PutField(opaque, OpaqueType::kProject, Str("G520"));
  PutField(opaque, OpaqueType::kProjectSku, Str("0200"));
  PutField(opaque, OpaqueType::kChipSku, Str("882"));
  PutField(opaque, OpaqueType::kNvdec0Status, Bytes{options_.nvdec0_status});
  if (options_.include_fwid) PutField(opaque, OpaqueType::kFwid, Fwid());
  if (bw) PutField(opaque, OpaqueType::kChipInfo, Str("GB100"));
  if (options_.feature_flag) {
    PutField(opaque, OpaqueType::kOpaqueDataVersion, U32(1));
    PutField(opaque, OpaqueType::kFeatureFlag, U32(*options_.feature_flag));
  }
  PutLe16(resp, static_cast<uint16_t>(opaque.size()));
  resp.insert(resp.end(), opaque.begin(), opaque.end());
  r.insert(r.end(), resp.begin(), resp.end());
  CVM_ASSIGN_OR_RETURN(Bytes der, SignEcdsaDer(leaf_key_.get(), DigestAlg::kSha384, r));
  CVM_ASSIGN_OR_RETURN(Bytes raw, EcdsaDerToRaw(der, kSignatureSize / 2));
  r.insert(r.end(), raw.begin(), raw.end());
  return r;
}

std::string SimGpu::ChainPem() const {
  std::string pem;
  for (const auto& c : chain_) pem += c.Pem();
  return pem;
}

GpuEvidence SimGpu::Evidence(ByteSpan nonce) const {
  GpuEvidence e;
  e.arch = options_.arch;
  e.uuid = "GPU-sim-" + std::to_string(options_.serial);
  auto r = Report(nonce);
  if (r.ok()) e.report = std::move(r).value();
  e.chain = chain_;
  return e;
}

Result<std::string> SimGpuProvider::DriverVersion() {
  if (gpus_.empty()) return Unavailable("no simulated GPU");
  return gpus_[0].options().driver_version;
}

Result<GpuInfo> SimGpuProvider::Info(unsigned index) {
  if (index >= gpus_.size()) return NotFound("simulated gpu " + std::to_string(index));
  const SimGpuOptions& o = gpus_[index].options();
  GpuInfo info;
  info.arch = o.arch;
  info.uuid = "GPU-sim-" + std::to_string(o.serial);
  return info;
}

Result<Bytes> SimGpuProvider::Report(unsigned index, ByteSpan nonce) {
  if (index >= gpus_.size()) return NotFound("simulated gpu " + std::to_string(index));
  return gpus_[index].Report(nonce);
}

Result<std::string> SimGpuProvider::CertChain(unsigned index) {
  if (index >= gpus_.size()) return NotFound("simulated gpu " + std::to_string(index));
  return gpus_[index].ChainPem();
}

Status SimGpuProvider::SetReady(bool ready) {
  ready_ = ready;
  return Status::Ok();
}

}  // namespace cvm::gpu
