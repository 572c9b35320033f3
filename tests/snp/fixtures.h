// Shared fixtures for snp tests: the real vectors and simulated platforms (generated once per
// test binary: RSA-4096 key generation is slow under sanitizers).
#pragma once

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/x509.h"
#include "snp/sim.h"

namespace cvm::snp::testing {

// A time inside the validity period of every certificate in tests/data/vectors/snp.
TimePoint VectorTime();

struct Vector {
  std::string name;
  Bytes report;
  std::vector<Certificate> certs;  // VCEK first, then whatever chain the vector ships
  Product product;
};
// milan-v2, genoa-v3, azure-vtpm (the report inside the HCL blob).
std::vector<Vector> RealVectors();
Vector RealVector(const std::string& name);

// Simulated platforms, created on first use and kept for the binary's lifetime.
const SimSnp& SimGenoa();  // version 3
const SimSnp& SimTurin();  // version 5
const SimSnp& SimMilan();  // version 2

// A report request with a recognisable measurement and report data.
SimReportRequest Request();

}  // namespace cvm::snp::testing
