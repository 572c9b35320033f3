// The Tpm interface on the tpm2-tss ESAPI.
#include <tss2/tss2_mu.h>

#include <algorithm>
#include <cstdio>

#include "common/keys.h"
#include "tpm/attest.h"
#include "tpm/esys.h"
#include "tpm/tpm.h"
#include "tpm/tss_convert.h"

namespace cvm::tpm {
namespace {

using esys::EsysObject;

constexpr int kQuoteAttempts = 3;
constexpr uint16_t kDefaultNvChunk = 512;

std::string HandleHex(uint32_t h) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", h);
  return buf;
}

class EsysTpm final : public Tpm {
 public:
  explicit EsysTpm(esys::Context ctx) : ctx_(std::move(ctx)) {}

  Result<PcrValues> ReadPcrs(const PcrSelection& selection) override {
    CVM_ASSIGN_OR_RETURN(TPML_PCR_SELECTION want, ToTpml(selection));
    PcrValues out;
    // TPM2_PCR_Read returns at most 8 digests per call: ask again for what is still missing.
    // Each round must return something; the bound stops a TPM that returns the same PCRs over
    // and over.
    uint32_t rounds = 0;
    while (true) {
      bool any = false;
      for (uint32_t b = 0; b < want.count; ++b) {
        for (uint8_t byte : want.pcrSelections[b].pcrSelect) any |= byte != 0;
      }
      if (!any) break;
      CVM_ASSIGN_OR_RETURN(auto read, ctx_.PcrRead(want));
      const TPML_PCR_SELECTION& got = *read.selection;
      const TPML_DIGEST& values = *read.values;
      uint32_t next = 0;
      for (uint32_t b = 0; b < got.count; ++b) {
        auto alg = DigestAlgFromTpm(got.pcrSelections[b].hash);
        if (!alg.ok()) return alg.status().WithContext("TPM2_PCR_Read");
        for (uint32_t i = 0; i < 8u * got.pcrSelections[b].sizeofSelect; ++i) {
          if (!(got.pcrSelections[b].pcrSelect[i / 8] & (1u << (i % 8)))) continue;
          if (next >= values.count) return Internal("TPM2_PCR_Read returned too few digests");
          const TPM2B_DIGEST& d = values.digests[next++];
          out[*alg][i] = Bytes(d.buffer, d.buffer + d.size);
          for (uint32_t w = 0; w < want.count; ++w) {
            if (want.pcrSelections[w].hash == got.pcrSelections[b].hash) {
              want.pcrSelections[w].pcrSelect[i / 8] &= static_cast<uint8_t>(~(1u << (i % 8)));
            }
          }
        }
      }
      if (next == 0 || ++rounds > 2 * (kMaxPcr + 1)) {
        return NotFound("TPM2_PCR_Read returned nothing for " + FormatPcrSelection(selection) +
                        ": the bank is not allocated on this TPM");
      }
    }
    return out;
  }

  Status ExtendPcr(uint32_t index, const std::map<DigestAlg, Bytes>& digests) override {
    if (index > kMaxPcr) return InvalidInput("PCR " + std::to_string(index) + " out of range");
    if (digests.empty()) return InvalidInput("no digest to extend PCR " + std::to_string(index));
    TPML_DIGEST_VALUES values{};
    for (const auto& [alg, digest] : digests) {
      if (digest.size() != DigestSize(alg)) {
        return InvalidInput(std::string(DigestName(alg)) + " digest for PCR " +
                            std::to_string(index) + " has " + std::to_string(digest.size()) +
                            " bytes");
      }
      TPMT_HA& ha = values.digests[values.count++];
      ha.hashAlg = TpmAlgId(alg);
      std::copy(digest.begin(), digest.end(), ha.digest.sha512);  // the union's largest member
    }
    // PCR handles 0..23 are their own ESYS_TR values (ESYS_TR_PCR0 + index).
    return ctx_.PcrExtend(ESYS_TR_PCR0 + index, values).WithContext("PCR " + std::to_string(index));
  }

  Result<AkPublic> ReadAk(const AkOptions& options) override {
    CVM_ASSIGN_OR_RETURN(LoadedAk ak, LoadAk(options));
    return std::move(ak.pub);
  }

  Result<Quote> MakeQuote(const AkOptions& options, ByteSpan nonce,
                          const PcrSelection& selection) override {
    if (nonce.size() > kMaxNonceSize) {
      return InvalidInput("nonce is " + std::to_string(nonce.size()) + " bytes, at most " +
                          std::to_string(kMaxNonceSize) + " allowed");
    }
    if (selection.empty()) return InvalidInput("empty PCR selection");
    CVM_ASSIGN_OR_RETURN(TPML_PCR_SELECTION tpml, ToTpml(selection));
    CVM_ASSIGN_OR_RETURN(LoadedAk ak, LoadAk(options));
    TPM2B_DATA qualifying{};
    qualifying.size = static_cast<uint16_t>(nonce.size());
    std::copy(nonce.begin(), nonce.end(), qualifying.buffer);
    for (int attempt = 1;; ++attempt) {
      CVM_ASSIGN_OR_RETURN(auto q, ctx_.Quote(ak.object.get(), qualifying, ak.scheme, tpml));
      Quote out;
      out.attest.assign(q.quoted->attestationData, q.quoted->attestationData + q.quoted->size);
      CVM_ASSIGN_OR_RETURN(out.signature,
                           Marshal(*q.signature, Tss2_MU_TPMT_SIGNATURE_Marshal, "TPMT_SIGNATURE"));
      CVM_ASSIGN_OR_RETURN(out.pcrs, ReadPcrs(selection));
      CVM_ASSIGN_OR_RETURN(Attest attest, ParseAttest(out.attest));
      CVM_ASSIGN_OR_RETURN(TpmSignature sig, ParseTpmSignature(out.signature));
      CVM_ASSIGN_OR_RETURN(Bytes digest,
                           PcrCompositeDigest(sig.hash, attest.pcr_selection, out.pcrs));
      if (digest == attest.pcr_digest) {
        out.ak = std::move(ak.pub);
        return out;
      }
      // A PCR was extended between the quote and the read.
      if (attempt == kQuoteAttempts) {
        return Unavailable("the PCRs kept changing while quoting (" +
                           std::to_string(kQuoteAttempts) + " attempts)");
      }
    }
  }

  Result<Bytes> NvRead(uint32_t index) override {
    auto st = NvReadImpl(index);
    return std::move(st).WithContext("NV index " + HandleHex(index));
  }

  Status NvWrite(uint32_t index, ByteSpan data) override {
    return NvWriteImpl(index, data).WithContext("NV index " + HandleHex(index));
  }

  Result<size_t> TransientObjectCount() override {
    CVM_ASSIGN_OR_RETURN(
        auto cap, ctx_.GetCapability(TPM2_CAP_HANDLES, TPM2_TRANSIENT_FIRST, TPM2_MAX_CAP_HANDLES));
    return static_cast<size_t>(cap->data.handles.count);
  }

 private:
  struct LoadedAk {
    EsysObject object;
    AkPublic pub;
    // For TPM2_Quote: always TPM_ALG_NULL, the key's own scheme. A restricted signing key must
    // have one (a TPM refuses to create it with a NULL scheme: TPM_RC_SCHEME), and LoadAk only
    // accepts restricted signing keys.
    TPMT_SIG_SCHEME scheme{TPM2_ALG_NULL, {}};
  };

  Result<LoadedAk> LoadAk(const AkOptions& options) {
    LoadedAk ak;
    TPM2B_PUBLIC pub{};
    if (options.persistent_handle) {
      auto obj = ctx_.FromTpmPublic(*options.persistent_handle);
      if (!obj.ok()) return obj.status().WithContext("AK");
      ak.object = std::move(*obj);
      CVM_ASSIGN_OR_RETURN(auto area, ctx_.ReadPublic(ak.object.get()));
      pub = *area.out_public;
      ak.pub.name.assign(area.name->name, area.name->name + area.name->size);
      if (!(pub.publicArea.objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT) ||
          !(pub.publicArea.objectAttributes & TPMA_OBJECT_RESTRICTED)) {
        return InvalidInput("AK " + HandleHex(*options.persistent_handle) +
                            " is not a restricted signing key");
      }
    } else {
      CVM_ASSIGN_OR_RETURN(auto primary,
                           ctx_.CreatePrimary(ESYS_TR_RH_ENDORSEMENT, AkTemplate(options.alg)));
      ak.object = std::move(primary.object);
      pub = *primary.out_public;
      CVM_ASSIGN_OR_RETURN(auto name, ctx_.TrGetName(ak.object.get()));
      ak.pub.name.assign(name->name, name->name + name->size);
    }
    CVM_ASSIGN_OR_RETURN(ak.pub.public_area,
                         Marshal(pub, Tss2_MU_TPM2B_PUBLIC_Marshal, "TPM2B_PUBLIC"));
    auto key = KeyFromTpmPublic(pub.publicArea);
    if (!key.ok()) return key.status().WithContext("AK public key");
    ak.pub.key = std::move(*key);
    return ak;
  }

  uint16_t NvChunk() {
    auto cap = ctx_.GetCapability(TPM2_CAP_TPM_PROPERTIES, TPM2_PT_NV_BUFFER_MAX, 1);
    uint32_t v = kDefaultNvChunk;
    if (cap.ok() && (*cap)->data.tpmProperties.count == 1 &&
        (*cap)->data.tpmProperties.tpmProperty[0].property == TPM2_PT_NV_BUFFER_MAX) {
      v = (*cap)->data.tpmProperties.tpmProperty[0].value;
    }
    return static_cast<uint16_t>(std::clamp<uint32_t>(v, 64, TPM2_MAX_NV_BUFFER_SIZE));
  }

  Result<Bytes> NvReadImpl(uint32_t index) {
    CVM_ASSIGN_OR_RETURN(EsysObject nv, ctx_.FromTpmPublic(index));
    CVM_ASSIGN_OR_RETURN(auto pub, ctx_.NvReadPublic(nv.get()));
    const TPMA_NV attrs = pub->nvPublic.attributes;
    ESYS_TR auth;
    if (attrs & TPMA_NV_AUTHREAD) {
      auth = nv.get();
    } else if (attrs & TPMA_NV_OWNERREAD) {
      auth = ESYS_TR_RH_OWNER;
    } else if (attrs & TPMA_NV_PPREAD) {
      auth = ESYS_TR_RH_PLATFORM;
    } else {
      return PermissionDenied("readable only with a policy, which is not supported");
    }
    const uint16_t size = pub->nvPublic.dataSize;
    const uint16_t chunk = NvChunk();
    Bytes out;
    out.reserve(size);
    for (uint16_t offset = 0; offset < size;) {
      uint16_t n = std::min<uint16_t>(chunk, static_cast<uint16_t>(size - offset));
      CVM_ASSIGN_OR_RETURN(auto data, ctx_.NvRead(auth, nv.get(), n, offset));
      if (data->size == 0 || data->size > n) return Internal("TPM2_NV_Read returned a bad size");
      out.insert(out.end(), data->buffer, data->buffer + data->size);
      offset = static_cast<uint16_t>(offset + data->size);
    }
    return out;
  }

  Status NvWriteImpl(uint32_t index, ByteSpan data) {
    if (data.empty()) return InvalidInput("nothing to write");
    if (data.size() > 0xFFFF) return InvalidInput("data too large for an NV index");
    auto existing = ctx_.FromTpmPublic(index);
    EsysObject nv;
    ESYS_TR auth = ESYS_TR_RH_OWNER;
    if (existing.ok()) {
      nv = std::move(*existing);
      CVM_ASSIGN_OR_RETURN(auto pub, ctx_.NvReadPublic(nv.get()));
      const TPMA_NV attrs = pub->nvPublic.attributes;
      if (attrs & TPMA_NV_OWNERWRITE) {
        auth = ESYS_TR_RH_OWNER;
      } else if (attrs & TPMA_NV_AUTHWRITE) {
        auth = nv.get();
      } else {
        return PermissionDenied("writable only with a policy, which is not supported");
      }
      if (data.size() > pub->nvPublic.dataSize) {
        return InvalidInput(std::to_string(data.size()) + " bytes do not fit in the index (" +
                            std::to_string(pub->nvPublic.dataSize) + " bytes)");
      }
    } else if (existing.status().code() == Code::kNotFound) {
      TPM2B_NV_PUBLIC info{};
      info.nvPublic.nvIndex = index;
      info.nvPublic.nameAlg = TPM2_ALG_SHA256;
      info.nvPublic.attributes = TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD;
      info.nvPublic.dataSize = static_cast<uint16_t>(data.size());
      CVM_ASSIGN_OR_RETURN(nv, ctx_.NvDefineSpace(ESYS_TR_RH_OWNER, info));
    } else {
      return existing.status();
    }
    const uint16_t chunk = NvChunk();
    for (size_t offset = 0; offset < data.size();) {
      TPM2B_MAX_NV_BUFFER buf{};
      buf.size = static_cast<uint16_t>(std::min<size_t>(chunk, data.size() - offset));
      std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(offset), buf.size, buf.buffer);
      CVM_RETURN_IF_ERROR(ctx_.NvWrite(auth, nv.get(), buf, static_cast<uint16_t>(offset)));
      offset += buf.size;
    }
    return Status::Ok();
  }

  esys::Context ctx_;
};

}  // namespace

Result<std::unique_ptr<Tpm>> OpenTpm(const std::string& tcti) {
  CVM_ASSIGN_OR_RETURN(esys::Context ctx, esys::Context::Open(tcti));
  return std::unique_ptr<Tpm>(std::make_unique<EsysTpm>(std::move(ctx)));
}

Result<Bytes> ReadNvCertificate(Tpm& tpm, uint32_t index) {
  CVM_ASSIGN_OR_RETURN(Bytes der, tpm.NvRead(index));
  // NV certificates are often padded with zeros to the index size: cut at the DER length.
  if (der.size() >= 2 && der[0] == 0x30) {
    size_t len = 0, header = 2;
    if (der[1] < 0x80) {
      len = der[1];
    } else {
      size_t n = der[1] & 0x7F;
      if (n >= 1 && n <= 4 && der.size() >= 2 + n) {
        for (size_t i = 0; i < n; ++i) len = (len << 8) | der[2 + i];
        header += n;
      }
    }
    if (len > 0 && header + len <= der.size()) der.resize(header + len);
  }
  return der;
}

}  // namespace cvm::tpm
