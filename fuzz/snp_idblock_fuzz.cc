// Fuzzes the ID block / ID auth checker (the public keys and signatures in ID auth are untrusted
// when a verifier or the simulator checks a block it was handed). Input: 96-byte block then auth.
#include <cstdint>

#include "snp/idblock.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cvm::ByteSpan in(data, size);
  size_t split = size < cvm::snp::kIdBlockSize ? size : cvm::snp::kIdBlockSize;
  (void)cvm::snp::VerifyIdBlock(in.first(split), in.subspan(split));
  return 0;
}
