#include "common/clock.h"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace cvm {

const SystemClock& SystemClock::Get() {
  static const SystemClock clock;
  return clock;
}

namespace {

bool ParseDigits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// Converts whole seconds to a TimePoint, refusing what does not fit in its nanoseconds.
Result<TimePoint> ToTimePoint(std::chrono::sys_seconds s, std::string_view text) {
  using std::chrono::seconds;
  if (s < std::chrono::ceil<seconds>(TimePoint::min()) ||
      s > std::chrono::floor<seconds>(TimePoint::max())) {
    return InvalidInput("time: " + std::string(text) +
                        " is outside the supported range (1677-09-21 to 2262-04-11)");
  }
  return TimePoint(s.time_since_epoch());
}

}  // namespace

Result<TimePoint> ParseTime(std::string_view text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos) {
    int64_t secs = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), secs);
    if (ec != std::errc() || p != text.data() + text.size()) {
      return InvalidInput("time: Unix seconds out of range: " + std::string(text));
    }
    return ToTimePoint(std::chrono::sys_seconds(std::chrono::seconds(secs)), text);
  }
  auto bad = [&](const char* why) {
    return InvalidInput("time: " + std::string(why) + " in \"" + std::string(text) +
                        "\" (expected RFC 3339, e.g. 2025-06-20T00:00:00Z, or Unix seconds)");
  };
  int year, mon, day, hour, min, sec;
  if (text.size() < 20 || !ParseDigits(text, 0, 4, &year) || text[4] != '-' ||
      !ParseDigits(text, 5, 2, &mon) || text[7] != '-' || !ParseDigits(text, 8, 2, &day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !ParseDigits(text, 11, 2, &hour) ||
      text[13] != ':' || !ParseDigits(text, 14, 2, &min) || text[16] != ':' ||
      !ParseDigits(text, 17, 2, &sec)) {
    return bad("malformed date-time");
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
    return bad("field out of range");
  }
  size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == start) return bad("empty fraction");
  }
  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh, om;
    if (!ParseDigits(text, pos + 1, 2, &oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !ParseDigits(text, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return bad("malformed offset");
    }
    offset_minutes = (text[pos] == '+' ? 1 : -1) * (oh * 60 + om);
    pos += 6;
  } else {
    return bad("missing time zone");
  }
  if (pos != text.size()) return bad("trailing characters");
  namespace chr = std::chrono;
  chr::year_month_day ymd{chr::year(year), chr::month(static_cast<unsigned>(mon)),
                          chr::day(static_cast<unsigned>(day))};
  if (!ymd.ok()) return bad("no such day");
  chr::sys_seconds s = chr::sys_days(ymd) + chr::hours(hour) + chr::minutes(min) +
                       chr::seconds(sec) - chr::minutes(offset_minutes);
  return ToTimePoint(s, text);
}

std::string FormatTime(TimePoint t) {
  time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string FormatTime(std::chrono::sys_seconds t) {
  namespace chr = std::chrono;
  chr::sys_days days = chr::floor<chr::days>(t);
  chr::year_month_day ymd(days);
  chr::hh_mm_ss<chr::seconds> hms(t - days);
  char buf[80];  // room for any int in each field, so the output is never truncated
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

}  // namespace cvm
