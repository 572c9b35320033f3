// Fuzzes the PCR selection text and PCR values JSON parsers: no crash, and what parses
// round-trips through its canonical form.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tpm/pcr.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto s = cvm::tpm::ParsePcrSelection(text); s.ok()) {
    auto again = cvm::tpm::ParsePcrSelection(cvm::tpm::FormatPcrSelection(*s));
    if (!again.ok() || cvm::tpm::FormatPcrSelection(*again) != cvm::tpm::FormatPcrSelection(*s)) {
      std::abort();
    }
  }
  if (auto v = cvm::tpm::PcrValuesFromJson(text); v.ok()) {
    auto again = cvm::tpm::PcrValuesFromJson(cvm::tpm::PcrValuesToJson(*v));
    if (!again.ok() || *again != *v) std::abort();
  }
  return 0;
}
