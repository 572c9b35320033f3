#include "tests/snp/fixtures.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "common/file_util.h"
#include "tests/testing/testing.h"

namespace cvm::snp::testing {
namespace {

std::vector<Certificate> Certs(const std::string& rel) {
  auto c = ParseCertificates(cvm::testing::ReadData(rel));
  if (!c.ok()) std::abort();
  return *c;
}

std::vector<Certificate> Concat(std::vector<Certificate> a, const std::vector<Certificate>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// ctest runs every test case in its own process; the simulated platform is kept on disk under
// the build directory so only the first process pays for RSA-4096 key generation. Created in a
// private directory and renamed into place, so concurrent processes never mix two platforms.
// After changing what sim.cc writes, bump kSimCacheVersion so stale platforms are not reused.
const SimSnp& MakeSim(Product product, uint32_t version) {
  constexpr int kSimCacheVersion = 1;
  std::string dir = cvm::testing::BinaryDir() + "/tests/snp/sim" +
                    std::to_string(kSimCacheVersion) + "-" + std::string(ProductName(product)) +
                    "-v" + std::to_string(version);
  auto loaded = SimSnp::Load(dir);
  if (!loaded.ok()) {
    SimPlatform p;
    p.product = product;
    p.report_version = version;
    std::string tmp = dir + ".tmp." + std::to_string(::getpid());
    auto created = SimSnp::Create(p, tmp);
    if (!created.ok()) std::abort();
    if (std::rename(tmp.c_str(), dir.c_str()) != 0) {
      std::filesystem::remove_all(tmp);  // another process won the race: use its platform
    }
    loaded = SimSnp::Load(dir);
    if (!loaded.ok()) std::abort();
  }
  return *new SimSnp(std::move(*loaded));  // lives for the whole binary
}

}  // namespace

TimePoint VectorTime() { return *ParseTime("2026-06-01T00:00:00Z"); }

std::vector<Vector> RealVectors() {
  std::vector<Vector> v;
  v.push_back(
      {"milan-v2", cvm::testing::ReadData("vectors/snp/milan-v2/report.bin"),
       Concat(Certs("vectors/snp/milan-v2/vcek.der"), Certs("vectors/snp/milan-v2/ask_ark.pem")),
       Product::kMilan});
  v.push_back(
      {"genoa-v3", cvm::testing::ReadData("vectors/snp/genoa-v3/report.bin"),
       Concat(Concat(Certs("vectors/snp/genoa-v3/vcek.pem"), Certs("vectors/snp/genoa-v3/ask.pem")),
              Certs("vectors/snp/genoa-v3/ark.pem")),
       Product::kGenoa});
  Bytes hcl = cvm::testing::ReadData("vectors/snp/azure-vtpm/hcl-report.bin");
  v.push_back({"azure-vtpm", Bytes(hcl.begin() + 0x20, hcl.begin() + 0x20 + 1184),
               Certs("vectors/snp/azure-vtpm/vcek_ask_ark.pem"), Product::kMilan});
  return v;
}

Vector RealVector(const std::string& name) {
  for (auto& v : RealVectors()) {
    if (v.name == name) return v;
  }
  std::abort();
}

const SimSnp& SimGenoa() {
  static const SimSnp& s = MakeSim(Product::kGenoa, 3);
  return s;
}
const SimSnp& SimTurin() {
  static const SimSnp& s = MakeSim(Product::kTurin, 5);
  return s;
}
const SimSnp& SimMilan() {
  static const SimSnp& s = MakeSim(Product::kMilan, 2);
  return s;
}

SimReportRequest Request() {
  SimReportRequest q;
  for (size_t i = 0; i < q.report_data.size(); ++i) q.report_data[i] = static_cast<uint8_t>(i);
  q.measurement.fill(0xab);
  q.host_data.fill(0x11);
  return q;
}

}  // namespace cvm::snp::testing
