#include "gpu/verify.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/objects.h>

#include <algorithm>
#include <cctype>

#include "common/digest.h"
#include "common/encoding.h"
#include "common/signature.h"
#include "gpu/evidence_json.h"
#include "gpu/roots.h"

namespace cvm::gpu {
namespace {

constexpr char kHopperFwidOid[] = "2.23.133.5.4.1";
constexpr char kBlackwellFwidOid[] = "2.23.133.5.4.1.1";
// NVDEC0's block; NVIDIA's SDK skips it when NVDEC0 is disabled (its value then differs).
constexpr unsigned kNvdecRimIndex = 35;
constexpr int kMaxDerDepth = 16;

struct Tlv {
  int tag = 0;
  int cls = 0;
  bool constructed = false;
  ByteSpan content;
  ByteSpan whole;
};

// Splits DER into its top-level TLVs with OpenSSL's header decoder. nullopt on malformed DER.
std::optional<std::vector<Tlv>> SplitDer(ByteSpan der) {
  std::vector<Tlv> out;
  const unsigned char* p = der.data();
  const unsigned char* end = der.data() + der.size();
  while (p < end) {
    const unsigned char* start = p;
    long len = 0;  // NOLINT(google-runtime-int)
    int tag = 0, cls = 0;
    int rc = ASN1_get_object(&p, &len, &tag, &cls, static_cast<long>(end - p));  // NOLINT
    if ((rc & 0x80) != 0 || rc == 0x21) {  // error, or indefinite length (not DER)
      ossl::ClearErrors();
      return std::nullopt;
    }
    Tlv t;
    t.tag = tag;
    t.cls = cls;
    t.constructed = (rc & V_ASN1_CONSTRUCTED) != 0;
    t.content = ByteSpan(p, static_cast<size_t>(len));
    p += len;
    t.whole = ByteSpan(start, static_cast<size_t>(p - start));
    out.push_back(t);
  }
  return out;
}

bool IsSha384Oid(const Tlv& t) {
  if (t.cls != V_ASN1_UNIVERSAL || t.tag != V_ASN1_OBJECT) return false;
  const unsigned char* p = t.whole.data();
  ossl::Asn1Object obj(d2i_ASN1_OBJECT(nullptr, &p, static_cast<long>(t.whole.size())));  // NOLINT
  ossl::ClearErrors();
  return obj && OBJ_obj2nid(obj.get()) == NID_sha384;
}

// The first SEQUENCE { OID sha384, OCTET STRING(48) } in DER order.
std::optional<Bytes> FindFwid(ByteSpan der, int depth) {
  if (depth > kMaxDerDepth) return std::nullopt;
  auto tlvs = SplitDer(der);
  if (!tlvs) return std::nullopt;
  for (const Tlv& t : *tlvs) {
    if (!t.constructed) continue;
    if (t.cls == V_ASN1_UNIVERSAL && t.tag == V_ASN1_SEQUENCE) {
      auto kids = SplitDer(t.content);
      if (kids && kids->size() == 2 && IsSha384Oid((*kids)[0]) &&
          (*kids)[1].cls == V_ASN1_UNIVERSAL && (*kids)[1].tag == V_ASN1_OCTET_STRING &&
          !(*kids)[1].constructed && (*kids)[1].content.size() == kFwidSize) {
        return ToBytes((*kids)[1].content);
      }
    }
    if (auto f = FindFwid(t.content, depth + 1)) return f;
  }
  return std::nullopt;
}

std::string SerialDecimal(const Certificate& c) {
  ossl::Bn bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(c.get()), nullptr));
  if (!bn) return "";
  char* s = BN_bn2dec(bn.get());
  if (s == nullptr) return "";
  std::string out(s);
  OPENSSL_free(s);
  return out;
}

Architecture ArchFromModel(std::string_view hwmodel) {
  if (hwmodel.rfind("GH", 0) == 0) return Architecture::kHopper;
  if (hwmodel.rfind("GB", 0) == 0) return Architecture::kBlackwell;
  return Architecture::kUnknown;
}

bool SameVersion(std::string a, std::string b) {
  auto lower = [](std::string& s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  lower(a);
  lower(b);
  return a == b;
}

struct LoadedRims {
  std::vector<Rim> rims;
  std::vector<std::string> errors;
};

LoadedRims LoadGivenRims(const VerifyOptions& o) {
  LoadedRims out;
  RimVerifyOptions ro;
  ro.at = o.at;
  ro.anchors = o.rim_anchors;
  for (size_t i = 0; i < o.rims.size(); ++i) {
    auto r = VerifyRim(o.rims[i], ro);
    if (r.ok()) {
      out.rims.push_back(std::move(r).value());
    } else {
      out.errors.push_back("rim " + std::to_string(i + 1) + ": " + r.status().ToString());
    }
  }
  return out;
}

// Finds a RIM for `version`: among the given ones first, then from the source by id.
std::optional<Rim> FindRim(const LoadedRims& given, const VerifyOptions& o,
                           const std::string& version, const std::string& id, std::string_view what,
                           GpuVerdict* v) {
  for (const Rim& r : given.rims) {
    if (SameVersion(r.version, version)) return r;
  }
  if (o.rim_source == nullptr) return std::nullopt;
  auto xml = o.rim_source->Fetch(id);
  if (!xml.ok()) {
    if (xml.status().code() != Code::kNotFound) {
      v->reasons.push_back(std::string(what) + " rim " + id + ": " + xml.status().ToString());
    }
    return std::nullopt;
  }
  RimVerifyOptions ro;
  ro.at = o.at;
  ro.anchors = o.rim_anchors;
  auto r = VerifyRim(*xml, ro);
  if (!r.ok()) {
    v->reasons.push_back(std::string(what) + " rim " + id + ": " + r.status().ToString());
    return std::nullopt;
  }
  if (!SameVersion(r->version, version)) {
    v->reasons.push_back(std::string(what) + " rim " + id + " is for version " + r->version +
                         ", the report has " + version);
    return std::nullopt;
  }
  return std::move(r).value();
}

Result<GpuVerdict> VerifyOne(const GpuEvidence& ev, const VerifyOptions& o,
                             const LoadedRims& given) {
  if (ev.chain.empty()) return InvalidInput("gpu evidence: no certificate chain");
  auto parsed = ParseReport(ev.report);
  if (!parsed.ok()) return parsed.status();
  GpuVerdict v;
  v.uuid = ev.uuid;
  v.report = std::move(parsed).value();
  const AttestationReport& r = *v.report;
  const Certificate& leaf = ev.chain[0];

  // Chain.
  if (ev.chain.size() < 2) {
    v.reasons.push_back("certificate chain has " + std::to_string(ev.chain.size()) +
                        " certificate; it needs at least the signing leaf and its issuer");
  } else {
    v.hwmodel = ev.chain[1].CommonName();
    std::vector<Certificate> anchors = o.device_anchors;
    if (anchors.empty()) anchors.push_back(DeviceIdentityRoot());
    ChainOptions co;
    co.at = o.at;
    std::span<const Certificate> rest(ev.chain.data() + 1, ev.chain.size() - 1);
    Status s = VerifyChain(leaf, rest, anchors, co);
    if (!s.ok()) v.reasons.push_back(s.ToString());
    if (s.ok() && o.ocsp != nullptr) {
      // Revocation of the intermediates, only once the chain holds (ocsp.h).
      OcspOptions oo = *o.ocsp;
      oo.at = o.at;
      if (oo.anchors.empty()) oo.anchors = o.device_anchors;
      auto revoked = CheckChainOcsp(ev.chain, oo);
      if (!revoked.ok()) {
        v.reasons.push_back("OCSP could not be checked: " + revoked.status().ToString());
      } else {
        v.ocsp_checked = revoked->empty();
        for (auto& reason : *revoked) v.reasons.push_back(std::move(reason));
      }
    }
  }
  v.ueid = SerialDecimal(leaf);

  // Architecture.
  Architecture from_chain = ArchFromModel(v.hwmodel);
  v.arch = ev.arch != Architecture::kUnknown ? ev.arch : from_chain;
  if (v.arch == Architecture::kUnknown) {
    v.reasons.push_back("unknown GPU architecture (hardware model '" + v.hwmodel + "')");
  } else if (from_chain != Architecture::kUnknown && from_chain != v.arch) {
    v.reasons.push_back("evidence says " + std::string(ArchitectureName(v.arch)) +
                        " but the certificate chain is for " +
                        std::string(ArchitectureName(from_chain)) + " (" + v.hwmodel + ")");
  }

  // FWID binding between the leaf certificate and the report.
  if (r.opaque.fwid) v.fwid = HexEncode(*r.opaque.fwid);
  auto leaf_fwid = LeafFwid(leaf);
  if (!leaf_fwid.ok()) {
    v.reasons.push_back("leaf certificate (" + leaf.CommonName() +
                        "): " + leaf_fwid.status().ToString());
  } else if (!r.opaque.fwid) {
    v.warnings.push_back("the report carries no FWID (driver " + r.opaque.driver_version +
                         "), so it is not compared with the leaf certificate's");
  } else if (*leaf_fwid != *r.opaque.fwid) {
    v.reasons.push_back("report FWID " + v.fwid + " differs from the leaf certificate's " +
                        HexEncode(*leaf_fwid));
  } else {
    v.fwid_checked = true;
  }

  // Signature over request || response up to the signature.
  auto key = leaf.PublicKey();
  if (!key.ok()) {
    v.reasons.push_back("leaf certificate key: " + key.status().ToString());
  } else {
    ByteSpan sig = r.signature;
    Status s = VerifyEcdsaRaw(key->get(), DigestAlg::kSha384, SignedPart(ev.report, r),
                              sig.subspan(0, kSignatureSize / 2), sig.subspan(kSignatureSize / 2));
    if (!s.ok()) {
      v.reasons.push_back("report signature does not verify with the leaf key (" +
                          leaf.CommonName() + ")");
    }
  }

  // Freshness.
  if (o.nonce) {
    v.nonce_checked = true;
    if (!ConstantTimeEqual(r.nonce, *o.nonce)) {
      v.reasons.push_back("report nonce " + HexEncode(r.nonce) + " is not the expected " +
                          HexEncode(*o.nonce));
    }
  } else {
    v.warnings.push_back("no expected nonce given: freshness not checked");
  }

  // Reference measurements.
  for (const auto& e : given.errors) v.reasons.push_back(e);
  if (!o.rims.empty() || o.rim_source != nullptr) {
    const OpaqueData& od = r.opaque;
    std::string driver_id =
        DriverRimId(v.arch == Architecture::kBlackwell, od.chip_info, od.driver_version);
    std::string vbios_id = VbiosRimId(od.project, od.project_sku, od.chip_sku, od.vbios_version);
    auto driver = FindRim(given, o, od.driver_version, driver_id, "driver", &v);
    auto vbios = FindRim(given, o, od.vbios_version, vbios_id, "vbios", &v);
    if (!driver) {
      (o.require_rims ? v.reasons : v.warnings)
          .push_back("no driver RIM for driver " + od.driver_version + " (" + driver_id + ")");
    }
    if (!vbios) {
      (o.require_rims ? v.reasons : v.warnings)
          .push_back("no VBIOS RIM for VBIOS " + od.vbios_version + " (" + vbios_id + ")");
    }
    CompareMeasurements(r, driver ? &*driver : nullptr, vbios ? &*vbios : nullptr, &v);
  }
  v.verified = v.reasons.empty();
  return v;
}

}  // namespace

Result<Bytes> LeafFwid(const Certificate& leaf) {
  std::optional<Bytes> ext = leaf.Extension(kHopperFwidOid);
  if (!ext) ext = leaf.Extension(kBlackwellFwidOid);
  if (!ext) return NotFound("no FWID extension (2.23.133.5.4.1 or 2.23.133.5.4.1.1)");
  auto fwid = FindFwid(*ext, 0);
  if (!fwid) return InvalidInput("the FWID extension holds no SHA-384 FWID");
  return *fwid;
}

std::string_view MeasurementStatusName(MeasurementStatus s) {
  switch (s) {
    case MeasurementStatus::kPartial:
      return "partial";
    case MeasurementStatus::kMatch:
      return "match";
    case MeasurementStatus::kMismatch:
      return "mismatch";
    case MeasurementStatus::kNotChecked:
      break;
  }
  return "not checked";
}

void CompareMeasurements(const AttestationReport& report, const Rim* driver, const Rim* vbios,
                         GpuVerdict* v) {
  v->driver_rim = driver ? driver->version : "";
  v->vbios_rim = vbios ? vbios->version : "";
  if (driver == nullptr && vbios == nullptr) {
    v->measurements = MeasurementStatus::kNotChecked;
    return;
  }
  bool nvdec_disabled = report.opaque.nvdec0_status == kNvdecDisabled;
  std::vector<unsigned> driver_active;
  if (driver) {
    for (const GoldenValue* g : driver->Active()) driver_active.push_back(g->index);
  }
  bool mismatch = false;
  auto check = [&](const Rim& rim, std::string_view what) {
    for (const GoldenValue* g : rim.Active()) {
      if (&rim == vbios &&
          std::find(driver_active.begin(), driver_active.end(), g->index) != driver_active.end()) {
        v->reasons.push_back("measurement index " + std::to_string(g->index) +
                             " is active in both the driver and the VBIOS RIM");
        mismatch = true;
        continue;
      }
      if (g->index == kNvdecRimIndex && nvdec_disabled) continue;
      const MeasurementBlock* b = report.Block(g->index + 1);
      std::string where = std::string(what) + " RIM " + rim.version + " index " +
                          std::to_string(g->index) + " (block " + std::to_string(g->index + 1) +
                          ")";
      bool ok = b != nullptr && b->value.size() == g->size &&
                std::any_of(g->hashes.begin(), g->hashes.end(),
                            [&](const Bytes& h) { return h == b->value; });
      if (!ok) {
        mismatch = true;
        v->mismatched_indices.push_back(g->index);
        v->reasons.push_back("measurement mismatch at " + where + ": report " +
                             (b ? HexEncode(b->value) : std::string("has no such block")) +
                             ", golden " + HexEncode(g->hashes.front()) +
                             (g->hashes.size() > 1
                                  ? " (or " + std::to_string(g->hashes.size() - 1) + " more)"
                                  : ""));
      }
    }
  };
  if (driver) check(*driver, "driver");
  if (vbios) check(*vbios, "VBIOS");
  std::sort(v->mismatched_indices.begin(), v->mismatched_indices.end());
  if (mismatch) {
    v->measurements = MeasurementStatus::kMismatch;
  } else if (driver && vbios) {
    v->measurements = MeasurementStatus::kMatch;
  } else {
    v->measurements = MeasurementStatus::kPartial;
  }
}

Result<GpuVerdict> VerifyGpu(const GpuEvidence& evidence, const VerifyOptions& options) {
  if (options.at == TimePoint{}) return InvalidInput("gpu: no verification time given");
  if (options.nonce && options.nonce->size() != kNonceSize) {
    return InvalidInput("expected nonce must be 32 bytes (see GpuNonce)");
  }
  LoadedRims given = LoadGivenRims(options);
  return VerifyOne(evidence, options, given);
}

Result<EvidenceVerdict> VerifyEvidenceList(std::span<const GpuEvidence> gpus,
                                           const VerifyOptions& options) {
  if (options.at == TimePoint{}) return InvalidInput("gpu: no verification time given");
  if (!options.nonce) return InvalidInput("gpu evidence list: an expected nonce is required");
  if (options.nonce->size() != kNonceSize) {
    return InvalidInput("expected nonce must be 32 bytes (see GpuNonce)");
  }
  LoadedRims given = LoadGivenRims(options);
  EvidenceVerdict out;
  for (size_t i = 0; i < gpus.size(); ++i) {
    auto v = VerifyOne(gpus[i], options, given);
    if (!v.ok()) return v.status().WithContext("gpu " + std::to_string(i));
    out.gpus.push_back(std::move(v).value());
  }
  if (out.gpus.empty()) out.reasons.push_back("the evidence list has no GPU");
  bool spt = false, mpt = false;
  for (const auto& g : out.gpus) {
    if (!g.report || !g.report->opaque.feature_flag) continue;
    spt |= *g.report->opaque.feature_flag == 0;
    mpt |= *g.report->opaque.feature_flag == 1;
  }
  if (spt && mpt) {
    out.reasons.push_back("GPUs mix single-GPU (SPT) and multi-GPU (MPT) confidential modes");
  }
  out.verified = out.reasons.empty() && std::all_of(out.gpus.begin(), out.gpus.end(),
                                                    [](const GpuVerdict& g) { return g.verified; });
  return out;
}

// Declared in gpu/evidence_json.h; defined here so that the JSON form (which collection uses)
// does not pull in verification.
Result<EvidenceVerdict> VerifyNvidiaEvidence(std::string_view text, ByteSpan nonce,
                                             VerifyOptions options) {
  CVM_ASSIGN_OR_RETURN(options.nonce, GpuNonce(nonce));
  CVM_ASSIGN_OR_RETURN(std::vector<GpuEvidence> gpus, ParseEvidenceJson(text));
  return VerifyEvidenceList(gpus, options);
}

}  // namespace cvm::gpu
