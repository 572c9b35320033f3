#include "tpm/binding.h"

#include "common/digest.h"
#include "common/keys.h"

namespace cvm::tpm {
namespace {

void PutField(Hasher& h, ByteSpan field) {
  const uint32_t n = static_cast<uint32_t>(field.size());
  const uint8_t len[4] = {static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16),
                          static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
  h.Update(len).Update(field);
}

}  // namespace

Result<Bytes> BindingReportData(ByteSpan nonce, const EVP_PKEY* ak, ByteSpan ephemeral) {
  auto spki = PublicKeyToDer(ak);
  if (!spki.ok()) return spki.status().WithContext("binding: AK public key");
  Hasher h(DigestAlg::kSha512);
  const uint8_t zero = 0;
  h.Update(AsBytes(kBindingLabel)).Update(ByteSpan(&zero, 1));
  PutField(h, nonce);
  PutField(h, *spki);
  PutField(h, ephemeral);
  return h.Finish();
}

Status VerifyBinding(ByteSpan report_data, ByteSpan nonce, const EVP_PKEY* ak, ByteSpan ephemeral) {
  if (report_data.size() != kReportDataSize) {
    return InvalidInput("binding: REPORT_DATA is " + std::to_string(report_data.size()) +
                        " bytes, expected 64");
  }
  CVM_ASSIGN_OR_RETURN(Bytes want, BindingReportData(nonce, ak, ephemeral));
  if (!ConstantTimeEqual(want, report_data)) {
    return Rejected("binding: REPORT_DATA does not commit to this nonce and AK (" +
                    std::string(kBindingLabel) + "): the TPM evidence is not bound to this TEE");
  }
  return Status::Ok();
}

}  // namespace cvm::tpm
