// The parts of gpu/verify.h that collection uses too (architecture names, the GPU nonce). They
// live apart from verify.cc so that a collector (cvm-agentd) linking gpu statically does not
// pull in verification, and with it the RIMs' xmlsec1 and libxml2 (see gpu/CMakeLists.txt).
#include <cctype>
#include <string>

#include "gpu/verify.h"

namespace cvm::gpu {

std::string_view ArchitectureName(Architecture a) {
  switch (a) {
    case Architecture::kHopper:
      return "HOPPER";
    case Architecture::kBlackwell:
      return "BLACKWELL";
    case Architecture::kUnknown:
      break;
  }
  return "UNKNOWN";
}

Result<Architecture> ParseArchitecture(std::string_view name) {
  std::string up(name);
  for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (up == "HOPPER") return Architecture::kHopper;
  if (up == "BLACKWELL") return Architecture::kBlackwell;
  if (up == "LS10") return Unsupported("NVSwitch (LS10) evidence is not supported");
  return InvalidInput("unknown GPU architecture '" + std::string(name) + "'");
}

Result<Bytes> GpuNonce(ByteSpan n) {
  if (n.size() == kNonceSize) return ToBytes(n);
  if (n.size() == 48 || n.size() == 64) return ToBytes(n.subspan(0, kNonceSize));
  return InvalidInput("gpu nonce: " + std::to_string(n.size()) +
                      " bytes; expected 32 (or a 48/64-byte runtime-data hash)");
}

}  // namespace cvm::gpu
