// Private to tpm/: the tpm2-tss ESAPI, wrapped once per call.
//
// Each wrapper turns its TSS2_RC into a Status whose message is Tss2_RC_Decode's text, and hands
// every ESAPI-allocated output to an owner that calls Esys_Free. Object handles come back as
// EsysObject owners that flush (transient objects) or close (persistent objects, NV indices) the
// ESYS_TR when they go out of scope, so no path leaks a TPM handle.
#pragma once

#include <tss2/tss2_esys.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cvm::tpm::esys {

// The status for an ESAPI/TCTI/TPM return code: TCTI and connection errors -> kUnavailable,
// TPM_RC_HANDLE / NV not initialised -> kNotFound, authorisation failures -> kPermissionDenied,
// TPM warnings asking to retry -> kUnavailable, anything else -> kIoError. The message is
// "`what`: <Tss2_RC_Decode text> (0x...)".
Status RcStatus(TSS2_RC rc, std::string_view what);

struct FreeDeleter {
  void operator()(void* p) const { Esys_Free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, FreeDeleter>;

class Context;

// An ESYS_TR owner. kFlush objects are flushed from the TPM; kClose objects only have their
// ESAPI metadata released (the TPM object stays).
class EsysObject {
 public:
  enum class Kind { kFlush, kClose };
  EsysObject() = default;
  EsysObject(ESYS_CONTEXT* ctx, ESYS_TR tr, Kind kind) : ctx_(ctx), tr_(tr), kind_(kind) {}
  ~EsysObject() { Reset(); }
  EsysObject(const EsysObject&) = delete;
  EsysObject& operator=(const EsysObject&) = delete;
  EsysObject(EsysObject&& o) noexcept { *this = std::move(o); }
  EsysObject& operator=(EsysObject&& o) noexcept;
  ESYS_TR get() const { return tr_; }
  void Reset();

 private:
  ESYS_CONTEXT* ctx_ = nullptr;
  ESYS_TR tr_ = ESYS_TR_NONE;
  Kind kind_ = Kind::kClose;
};

// An ESYS context over a TCTI loaded by tss2-tctildr. Move-only; not thread-safe.
// tpm2-tss's own stderr logging follows the TSS2_LOG environment variable, which the library
// never changes: executables set it (cvmctl: "all+none" unless the user set it).
class Context {
 public:
  static Result<Context> Open(const std::string& tcti);
  ~Context();
  Context(Context&& o) noexcept;
  Context& operator=(Context&&) = delete;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  ESYS_CONTEXT* get() const { return esys_; }

  struct Primary {
    EsysObject object;
    Owned<TPM2B_PUBLIC> out_public;
  };
  Result<Primary> CreatePrimary(ESYS_TR hierarchy, const TPM2B_PUBLIC& in_public);
  Result<EsysObject> FromTpmPublic(TPM2_HANDLE handle);
  struct PublicArea {
    Owned<TPM2B_PUBLIC> out_public;
    Owned<TPM2B_NAME> name;
  };
  Result<PublicArea> ReadPublic(ESYS_TR object);
  Result<Owned<TPM2B_NAME>> TrGetName(ESYS_TR object);
  struct QuoteOut {
    Owned<TPM2B_ATTEST> quoted;
    Owned<TPMT_SIGNATURE> signature;
  };
  // `scheme`: TPM2_ALG_NULL to sign with the key's own scheme.
  Result<QuoteOut> Quote(ESYS_TR key, const TPM2B_DATA& qualifying, const TPMT_SIG_SCHEME& scheme,
                         const TPML_PCR_SELECTION& selection);
  struct PcrReadOut {
    Owned<TPML_PCR_SELECTION> selection;
    Owned<TPML_DIGEST> values;
  };
  Result<PcrReadOut> PcrRead(const TPML_PCR_SELECTION& selection);
  Status PcrExtend(ESYS_TR pcr, const TPML_DIGEST_VALUES& digests);
  Result<Owned<TPM2B_NV_PUBLIC>> NvReadPublic(ESYS_TR index);
  Result<Owned<TPM2B_MAX_NV_BUFFER>> NvRead(ESYS_TR auth, ESYS_TR index, uint16_t size,
                                            uint16_t offset);
  Status NvWrite(ESYS_TR auth, ESYS_TR index, const TPM2B_MAX_NV_BUFFER& data, uint16_t offset);
  Result<EsysObject> NvDefineSpace(ESYS_TR auth, const TPM2B_NV_PUBLIC& info);
  Result<Owned<TPMS_CAPABILITY_DATA>> GetCapability(TPM2_CAP capability, uint32_t property,
                                                    uint32_t count);

 private:
  Context(TSS2_TCTI_CONTEXT* tcti, ESYS_CONTEXT* esys) : tcti_(tcti), esys_(esys) {}
  TSS2_TCTI_CONTEXT* tcti_ = nullptr;
  ESYS_CONTEXT* esys_ = nullptr;
};

}  // namespace cvm::tpm::esys
