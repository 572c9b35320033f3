// The three executables answer --help and --version with exit 0 and refuse unknown options with
// exit 2 and a message.
#include <catch2/catch.hpp>

#include "tests/testing/testing.h"

namespace cvm {
namespace {

const std::vector<std::pair<std::string, std::string>>& Executables() {
  static const std::vector<std::pair<std::string, std::string>> kExes = {
      {"cvmctl", testing::BinaryDir() + "/cli/cvmctl"},
      {"cvm-agentd", testing::BinaryDir() + "/agent/cvm-agentd"},
      {"cvm-rp", testing::BinaryDir() + "/rp/cvm-rp"},
  };
  return kExes;
}

TEST_CASE("Every executable prints its version and exits 0") {
  for (const auto& [name, path] : Executables()) {
    auto r = testing::Run({path, "--version"});
    INFO(name);
    CHECK(r.exit_code == 0);
    CHECK(r.out == name + " 0.1.0\n");
  }
}

TEST_CASE("Every executable prints help on --help and exits 0") {
  for (const auto& [name, path] : Executables()) {
    auto r = testing::Run({path, "--help"});
    INFO(name);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("Usage: " + name) == 0);
  }
}

TEST_CASE("Every executable refuses an unknown option with exit 2 and names it") {
  for (const auto& [name, path] : Executables()) {
    auto r = testing::Run({path, "--frobnicate"});
    INFO(name);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--frobnicate") != std::string::npos);
  }
}

TEST_CASE("cvmctl refuses an unknown command and a bad log level with exit 2") {
  std::string cvmctl = testing::BinaryDir() + "/cli/cvmctl";
  CHECK(testing::Run({cvmctl, "frobnicate"}).exit_code == 2);
  CHECK(testing::Run({cvmctl, "--log-level", "loud", "report"}).exit_code == 2);
  CHECK(testing::Run({cvmctl}).exit_code == 2);
}

TEST_CASE("cvmctl report show refuses a file that is no known evidence, with exit 2") {
  testing::TempDir dir;
  std::string cvmctl = testing::BinaryDir() + "/cli/cvmctl";
  auto missing = testing::Run({cvmctl, "report", "show", dir.File("missing.bin")});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("missing.bin") != std::string::npos);
  auto r = testing::Run({cvmctl, "report", "show", testing::DataPath("vectors/README.md")});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("not a recognised evidence format") != std::string::npos);
}

}  // namespace
}  // namespace cvm

namespace cvm {
namespace {

TEST_CASE("The daemons refuse an unknown log level with exit 2") {
  for (const char* exe : {"/agent/cvm-agentd", "/rp/cvm-rp"}) {
    auto r = testing::Run({testing::BinaryDir() + exe, "--log-level", "loud"});
    INFO(exe);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("loud") != std::string::npos);
  }
}

TEST_CASE("Without a readable configuration file the daemon refuses to start with exit 2") {
  auto r = testing::Run(
      {testing::BinaryDir() + "/agent/cvm-agentd", "--config", "/nonexistent/config.yaml"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("/nonexistent/config.yaml") != std::string::npos);
}

}  // namespace
}  // namespace cvm
