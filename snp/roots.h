// AMD's public SEV-SNP root (ARK) and intermediate (ASK for VCEKs, ASVK for VLEKs) certificates
// for each product, compiled in. Source: AMD KDS /vcek/v1/{product}/cert_chain and
// /vlek/v1/{product}/cert_chain (copies in tests/data/vectors/snp/roots/).
#pragma once

#include <vector>

#include "common/x509.h"
#include "snp/report.h"

namespace cvm::snp {

struct AmdChain {
  Certificate ark;   // self-signed root, the trust anchor
  Certificate ask;   // signs VCEKs
  Certificate asvk;  // signs VLEKs
};

// The built-in chain of `product`. REQUIRES: product != kUnknown. Thread-safe (parsed once).
const AmdChain& BuiltinChain(Product product);

// Every built-in ARK, for callers that accept any product.
std::vector<Certificate> BuiltinArks();

}  // namespace cvm::snp
