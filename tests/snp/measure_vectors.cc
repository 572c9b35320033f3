#include "tests/snp/measure_vectors.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "common/file_util.h"

namespace cvm::snp::testing {

std::string MeasureVectorDir() {
  if (const char* env = std::getenv("CVM_MEASURE_VECTORS"); env != nullptr && *env != '\0') {
    return env;
  }
  std::string shared = cvm::testing::SourceDir() + "/../shared/vectors/measure";
  if (std::filesystem::exists(shared + "/cases.json")) return shared;
  return cvm::testing::DataPath("vectors/measure");
}

const std::vector<nlohmann::json>& MeasureCases() {
  static const std::vector<nlohmann::json> cases = [] {
    std::string path = MeasureVectorDir() + "/cases.json";
    auto text = ReadTextFile(path);
    if (!text.ok()) {
      std::fprintf(stderr, "missing test data: %s\n", text.status().ToString().c_str());
      std::abort();
    }
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (!j.is_array()) {
      std::fprintf(stderr, "%s: not a JSON array\n", path.c_str());
      std::abort();
    }
    return j.get<std::vector<nlohmann::json>>();
  }();
  return cases;
}

cvm::testing::ProcessResult Cvmctl(std::vector<std::string> args) {
  args.insert(args.begin(), cvm::testing::BinaryDir() + "/cli/cvmctl");
  return cvm::testing::Run(args);
}

}  // namespace cvm::snp::testing
