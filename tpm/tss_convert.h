// Private to tpm/: conversions between our types and tpm2-tss structures, shared by the ESAPI
// implementation and the fake TPM.
#pragma once

#include <tss2/tss2_mu.h>
#include <tss2/tss2_tpm2_types.h>

#include <string_view>

#include "common/bytes.h"
#include "common/ossl.h"
#include "tpm/esys.h"
#include "tpm/pcr.h"
#include "tpm/tpm.h"

namespace cvm::tpm {

// The AK template for `alg` (see AkOptions in tpm.h).
TPM2B_PUBLIC AkTemplate(AkAlg alg);
// The public key of an RSA or ECC (P-256, P-384) TPMT_PUBLIC.
Result<ossl::PKey> KeyFromTpmPublic(const TPMT_PUBLIC& p);
// A TPML_PCR_SELECTION (3-byte bitmaps) for `selection`.
Result<TPML_PCR_SELECTION> ToTpml(const PcrSelection& selection);

// Marshals `value` with a Tss2_MU_*_Marshal function.
template <typename T, typename MarshalFn>
Result<Bytes> Marshal(const T& value, MarshalFn fn, std::string_view what) {
  Bytes buf(sizeof(T) + 16);
  size_t offset = 0;
  TSS2_RC rc = fn(&value, buf.data(), buf.size(), &offset);
  if (rc != TSS2_RC_SUCCESS) return esys::RcStatus(rc, what);
  buf.resize(offset);
  return buf;
}

}  // namespace cvm::tpm
