#include "common/log.h"

#include <catch2/catch.hpp>

namespace cvm::log {
namespace {

TEST_CASE("Lines carry the syslog priority prefix journald understands") {
  CHECK(FormatLine(Level::kInfo, "agent started", {}) == "<6>agent started\n");
  CHECK(FormatLine(Level::kError, "no TEE", {{"TEE", "none"}}) == "<3>no TEE (tee=none)\n");
}

TEST_CASE("Log levels parse by name; unknown names are an error") {
  CHECK(*ParseLevel("debug") == Level::kDebug);
  CHECK(*ParseLevel("warning") == Level::kWarning);
  auto bad = ParseLevel("verbose");
  CHECK_FALSE(bad.ok());
  CHECK(bad.status().message().find("verbose") != std::string::npos);
}

TEST_CASE("SetLevel filters lower-priority messages") {
  Level old = GetLevel();
  SetLevel(Level::kError);
  CHECK(GetLevel() == Level::kError);
  Info("not shown");  // filtered; must not crash
  SetLevel(old);
}

}  // namespace
}  // namespace cvm::log
