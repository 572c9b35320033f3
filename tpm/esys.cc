#include "tpm/esys.h"

#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include <cstdio>
#include <cstdlib>

namespace cvm::tpm::esys {

Status RcStatus(TSS2_RC rc, std::string_view what) {
  if (rc == TSS2_RC_SUCCESS) return Status::Ok();
  char hex[16];
  std::snprintf(hex, sizeof(hex), "0x%x", rc);
  std::string msg = std::string(what) + ": " + Tss2_RC_Decode(rc) + " (" + hex + ")";
  const TSS2_RC layer = rc & TSS2_RC_LAYER_MASK;
  const TSS2_RC base = rc & 0xFFFF;
  if (layer == TSS2_TCTI_RC_LAYER ||
      (layer != TSS2_TPM_RC_LAYER &&
       (base == TSS2_BASE_RC_NO_CONNECTION || base == TSS2_BASE_RC_IO_ERROR ||
        base == TSS2_BASE_RC_TRY_AGAIN))) {
    return Unavailable(msg);
  }
  if (layer == TSS2_TPM_RC_LAYER) {
    // Format-one codes carry a handle/session/parameter number in bits 8-11: mask it off.
    TSS2_RC code = (rc & TPM2_RC_FMT1) ? (rc & (TPM2_RC_FMT1 | 0x3F)) : (rc & 0xFFF);
    switch (code) {
      case TPM2_RC_HANDLE:
      case TPM2_RC_NV_UNINITIALIZED:
        return NotFound(msg);
      case TPM2_RC_AUTH_FAIL:
      case TPM2_RC_BAD_AUTH:
      case TPM2_RC_LOCKOUT:
      case TPM2_RC_NV_AUTHORIZATION:
      case TPM2_RC_AUTH_UNAVAILABLE:
        return PermissionDenied(msg);
      case TPM2_RC_RETRY:
      case TPM2_RC_YIELDED:
      case TPM2_RC_TESTING:
      case TPM2_RC_NV_RATE:
      case TPM2_RC_NV_UNAVAILABLE:
      case TPM2_RC_OBJECT_MEMORY:
      case TPM2_RC_SESSION_MEMORY:
      case TPM2_RC_MEMORY:
        return Unavailable(msg);
      default:
        break;
    }
  }
  return IoError(msg);
}

EsysObject& EsysObject::operator=(EsysObject&& o) noexcept {
  if (this != &o) {
    Reset();
    ctx_ = o.ctx_;
    tr_ = o.tr_;
    kind_ = o.kind_;
    o.tr_ = ESYS_TR_NONE;
  }
  return *this;
}

void EsysObject::Reset() {
  if (ctx_ == nullptr || tr_ == ESYS_TR_NONE) return;
  // Failures here cannot be reported to anyone; the TPM is unreachable or the object is gone.
  if (kind_ == Kind::kFlush) {
    (void)Esys_FlushContext(ctx_, tr_);
  } else {
    (void)Esys_TR_Close(ctx_, &tr_);
  }
  tr_ = ESYS_TR_NONE;
}

Result<Context> Context::Open(const std::string& tcti) {
  TSS2_TCTI_CONTEXT* t = nullptr;
  TSS2_RC rc = Tss2_TctiLdr_Initialize(tcti.c_str(), &t);
  if (rc != TSS2_RC_SUCCESS) {
    Status st = RcStatus(rc, "TCTI '" + tcti + "'");
    const TSS2_RC base = rc & 0xFFFF;
    // An unknown TCTI name or malformed configuration is the caller's mistake, not an outage.
    if (base == TSS2_BASE_RC_NOT_SUPPORTED || base == TSS2_BASE_RC_BAD_VALUE ||
        base == TSS2_BASE_RC_BAD_REFERENCE) {
      return InvalidInput(st.message() +
                          ": unknown or malformed TCTI (e.g. device:/dev/tpmrm0, "
                          "swtpm:host=127.0.0.1,port=2321, mssim:host=...,port=...)");
    }
    // tctildr reports a missing device or refused connection in several ways; all mean the TPM
    // is not reachable through this TCTI.
    return Unavailable(st.message() + ": the TPM cannot be reached through this TCTI");
  }
  ESYS_CONTEXT* e = nullptr;
  rc = Esys_Initialize(&e, t, nullptr);
  if (rc != TSS2_RC_SUCCESS) {
    Tss2_TctiLdr_Finalize(&t);
    return RcStatus(rc, "Esys_Initialize");
  }
  return Context(t, e);
}

Context::~Context() {
  if (esys_) Esys_Finalize(&esys_);
  if (tcti_) Tss2_TctiLdr_Finalize(&tcti_);
}

Context::Context(Context&& o) noexcept : tcti_(o.tcti_), esys_(o.esys_) {
  o.tcti_ = nullptr;
  o.esys_ = nullptr;
}

Result<Context::Primary> Context::CreatePrimary(ESYS_TR hierarchy, const TPM2B_PUBLIC& in_public) {
  TPM2B_SENSITIVE_CREATE sensitive{};
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION creation_pcr{};
  ESYS_TR handle = ESYS_TR_NONE;
  TPM2B_PUBLIC* out_public = nullptr;
  TPM2B_CREATION_DATA* creation_data = nullptr;
  TPM2B_DIGEST* creation_hash = nullptr;
  TPMT_TK_CREATION* ticket = nullptr;
  TSS2_RC rc = Esys_CreatePrimary(esys_, hierarchy, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                  &sensitive, &in_public, &outside, &creation_pcr, &handle,
                                  &out_public, &creation_data, &creation_hash, &ticket);
  Primary p{EsysObject(esys_, handle, EsysObject::Kind::kFlush), Owned<TPM2B_PUBLIC>(out_public)};
  Owned<TPM2B_CREATION_DATA> d(creation_data);
  Owned<TPM2B_DIGEST> h(creation_hash);
  Owned<TPMT_TK_CREATION> t(ticket);
  if (rc != TSS2_RC_SUCCESS) return RcStatus(rc, "TPM2_CreatePrimary");
  return p;
}

Result<EsysObject> Context::FromTpmPublic(TPM2_HANDLE handle) {
  ESYS_TR tr = ESYS_TR_NONE;
  TSS2_RC rc = Esys_TR_FromTPMPublic(esys_, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &tr);
  char hex[16];
  std::snprintf(hex, sizeof(hex), "0x%08x", handle);
  if (rc != TSS2_RC_SUCCESS) return RcStatus(rc, std::string("handle ") + hex);
  return EsysObject(esys_, tr, EsysObject::Kind::kClose);
}

Result<Context::PublicArea> Context::ReadPublic(ESYS_TR object) {
  TPM2B_PUBLIC* pub = nullptr;
  TPM2B_NAME* name = nullptr;
  TPM2B_NAME* qualified = nullptr;
  TSS2_RC rc = Esys_ReadPublic(esys_, object, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, &name,
                               &qualified);
  PublicArea out{Owned<TPM2B_PUBLIC>(pub), Owned<TPM2B_NAME>(name)};
  Owned<TPM2B_NAME> q(qualified);
  if (rc != TSS2_RC_SUCCESS) return RcStatus(rc, "TPM2_ReadPublic");
  return out;
}

Result<Owned<TPM2B_NAME>> Context::TrGetName(ESYS_TR object) {
  TPM2B_NAME* name = nullptr;
  TSS2_RC rc = Esys_TR_GetName(esys_, object, &name);
  Owned<TPM2B_NAME> out(name);
  if (rc != TSS2_RC_SUCCESS) return RcStatus(rc, "Esys_TR_GetName");
  return out;
}

Result<Context::QuoteOut> Context::Quote(ESYS_TR key, const TPM2B_DATA& qualifying,
                                         const TPMT_SIG_SCHEME& scheme,
                                         const TPML_PCR_SELECTION& selection) {
  TPM2B_ATTEST* quoted = nullptr;
  TPMT_SIGNATURE* signature = nullptr;
  TSS2_RC rc = Esys_Quote(esys_, key, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qualifying,
                          &scheme, &selection, &quoted, &signature);
  QuoteOut out{Owned<TPM2B_ATTEST>(quoted), Owned<TPMT_SIGNATURE>(signature)};
  if (rc != TSS2_RC_SUCCESS) return RcStatus(rc, "TPM2_Quote");
  return out;
}

Result<Context::PcrReadOut> Context::PcrRead(const TPML_PCR_SELECTION& selection) {
  UINT32 counter = 0;
  TPML_PCR_SELECTION* sel = nullptr;
  TPML_DIGEST* values = nullptr;
  TSS2_RC rc = Esys_PCR_Read(esys_, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &selection, &counter,
                             &sel, &values);
  PcrReadOut out{Owned<TPML_PCR_SELECTION>(sel), Owned<TPML_DIGEST>(values)};
  if (rc != TSS2_RC_SUCCESS) return RcStatus(rc, "TPM2_PCR_Read");
  return out;
}

Status Context::PcrExtend(ESYS_TR pcr, const TPML_DIGEST_VALUES& digests) {
  return RcStatus(
      Esys_PCR_Extend(esys_, pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &digests),
      "TPM2_PCR_Extend");
}

Result<Owned<TPM2B_NV_PUBLIC>> Context::NvReadPublic(ESYS_TR index) {
  TPM2B_NV_PUBLIC* pub = nullptr;
  TPM2B_NAME* name = nullptr;
  TSS2_RC rc =
      Esys_NV_ReadPublic(esys_, index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, &name);
  Owned<TPM2B_NV_PUBLIC> out(pub);
  Owned<TPM2B_NAME> n(name);
  if (rc != TSS2_RC_SUCCESS) return RcStatus(rc, "TPM2_NV_ReadPublic");
  return out;
}

Result<Owned<TPM2B_MAX_NV_BUFFER>> Context::NvRead(ESYS_TR auth, ESYS_TR index, uint16_t size,
                                                   uint16_t offset) {
  TPM2B_MAX_NV_BUFFER* data = nullptr;
  TSS2_RC rc = Esys_NV_Read(esys_, auth, index, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, size,
                            offset, &data);
  Owned<TPM2B_MAX_NV_BUFFER> out(data);
  if (rc != TSS2_RC_SUCCESS) return RcStatus(rc, "TPM2_NV_Read");
  return out;
}

Status Context::NvWrite(ESYS_TR auth, ESYS_TR index, const TPM2B_MAX_NV_BUFFER& data,
                        uint16_t offset) {
  return RcStatus(Esys_NV_Write(esys_, auth, index, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                &data, offset),
                  "TPM2_NV_Write");
}

Result<EsysObject> Context::NvDefineSpace(ESYS_TR auth, const TPM2B_NV_PUBLIC& info) {
  TPM2B_AUTH empty{};
  ESYS_TR tr = ESYS_TR_NONE;
  TSS2_RC rc = Esys_NV_DefineSpace(esys_, auth, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                   &empty, &info, &tr);
  if (rc != TSS2_RC_SUCCESS) return RcStatus(rc, "TPM2_NV_DefineSpace");
  return EsysObject(esys_, tr, EsysObject::Kind::kClose);
}

Result<Owned<TPMS_CAPABILITY_DATA>> Context::GetCapability(TPM2_CAP capability, uint32_t property,
                                                           uint32_t count) {
  TPMI_YES_NO more = TPM2_NO;
  TPMS_CAPABILITY_DATA* data = nullptr;
  TSS2_RC rc = Esys_GetCapability(esys_, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, capability,
                                  property, count, &more, &data);
  Owned<TPMS_CAPABILITY_DATA> out(data);
  if (rc != TSS2_RC_SUCCESS) return RcStatus(rc, "TPM2_GetCapability");
  return out;
}

}  // namespace cvm::tpm::esys
