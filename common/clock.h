// The clock seam: code that evaluates validity periods or deadlines takes a Clock so tests and
// offline verification (`cvmctl verify --at`) can fix the time.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cvm {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

// The real wall clock. Thread-safe.
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  static const SystemClock& Get();
};

// A clock that returns a set time until changed. Not thread-safe.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(TimePoint t) : t_(t) {}
  TimePoint Now() const override { return t_; }
  void Set(TimePoint t) { t_ = t; }
  void Advance(std::chrono::seconds d) { t_ += d; }

 private:
  TimePoint t_;
};

// Parses RFC 3339 ("2025-06-20T00:00:00Z", fractional seconds and numeric offsets allowed) or
// decimal Unix seconds ("1750377600"). A time outside the range of TimePoint (1677-09-21 to
// 2262-04-11) is refused with kInvalidInput rather than overflowing.
Result<TimePoint> ParseTime(std::string_view text);
// RFC 3339 in UTC with a "Z" suffix, whole seconds.
std::string FormatTime(TimePoint t);
// The same for a time in whole seconds, such as a certificate's notAfter (common/x509.h), for
// every year from 0000 to 9999 (no conversion to time_t or nanoseconds).
std::string FormatTime(std::chrono::sys_seconds t);

}  // namespace cvm
