#include "common/clock.h"

#include <catch2/catch.hpp>

namespace cvm {
namespace {

using std::chrono::seconds;

TEST_CASE("RFC 3339 and Unix seconds parse to the same instant") {
  auto a = ParseTime("2025-06-20T00:00:00Z");
  auto b = ParseTime("1750377600");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*a == *b);
  CHECK(FormatTime(*a) == "2025-06-20T00:00:00Z");
}

TEST_CASE("Offsets and fractions are honoured") {
  CHECK(*ParseTime("2025-06-20T02:00:00+02:00") == *ParseTime("2025-06-20T00:00:00Z"));
  CHECK(*ParseTime("2025-06-19T23:30:00.123-00:30") == *ParseTime("2025-06-20T00:00:00Z"));
}

TEST_CASE("Malformed times are rejected with a hint") {
  for (const char* bad : {"", "2025-06-20", "2025-06-20T00:00:00", "2025-13-01T00:00:00Z",
                          "2025-06-20T00:00:00Zjunk", "yesterday", "-5", "99999999999999999999"}) {
    auto t = ParseTime(bad);
    CHECK_FALSE(t.ok());
    CHECK(t.status().code() == Code::kInvalidInput);
  }
  CHECK(ParseTime("2025-06-20").status().message().find("RFC 3339") != std::string::npos);
}

TEST_CASE("Times beyond the range of TimePoint are refused instead of overflowing") {
  for (const char* far : {"3026-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1000-01-01T00:00:00Z",
                          "99999999999", "9223372036854775807"}) {
    INFO(far);
    auto t = ParseTime(far);
    CHECK(t.status().code() == Code::kInvalidInput);
    CHECK(t.status().message().find("range") != std::string::npos);
  }
  CHECK(ParseTime("2262-04-11T00:00:00Z").ok());
  CHECK_FALSE(ParseTime("2025-02-30T00:00:00Z").ok());
}

TEST_CASE("Whole-second times format for every year up to 9999") {
  using std::chrono::sys_days;
  using namespace std::chrono_literals;
  CHECK(FormatTime(std::chrono::sys_seconds(sys_days(9999y / 12 / 31)) + 86399s) ==
        "9999-12-31T23:59:59Z");
  CHECK(FormatTime(std::chrono::sys_seconds(sys_days(1970y / 1 / 1))) == "1970-01-01T00:00:00Z");
}

TEST_CASE("FixedClock returns the injected time and advances on request") {
  FixedClock clock(*ParseTime("2025-01-01T00:00:00Z"));
  clock.Advance(seconds(60));
  CHECK(FormatTime(clock.Now()) == "2025-01-01T00:01:00Z");
}

}  // namespace
}  // namespace cvm
