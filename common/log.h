// Logging to stderr in a journald-friendly form.
//
// Under systemd (stderr is the journal stream named by $JOURNAL_STREAM) each line is sent to the
// journal with structured fields (PRIORITY, CVM_* fields, CODE_FILE...). Otherwise lines go to
// stderr prefixed with the syslog priority, "<6>message", which journald and syslog understand;
// on a terminal the prefix is the level's name instead. Never log secret material.
// Thread-safe.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cvm::log {

// syslog priorities.
enum class Level { kError = 3, kWarning = 4, kNotice = 5, kInfo = 6, kDebug = 7 };

// "error", "warning", "notice", "info", "debug".
Result<Level> ParseLevel(std::string_view name);
void SetLevel(Level level);
Level GetLevel();
// The program name used on a terminal ("cvmctl: error: ...").
void SetProgramName(std::string_view name);

struct Field {
  std::string_view key;  // upper-case journal field name without the CVM_ prefix
  std::string value;
};

void Write(Level level, std::string_view message, std::initializer_list<Field> fields = {});
inline void Error(std::string_view m, std::initializer_list<Field> f = {}) {
  Write(Level::kError, m, f);
}
inline void Warning(std::string_view m, std::initializer_list<Field> f = {}) {
  Write(Level::kWarning, m, f);
}
inline void Notice(std::string_view m, std::initializer_list<Field> f = {}) {
  Write(Level::kNotice, m, f);
}
inline void Info(std::string_view m, std::initializer_list<Field> f = {}) {
  Write(Level::kInfo, m, f);
}
inline void Debug(std::string_view m, std::initializer_list<Field> f = {}) {
  Write(Level::kDebug, m, f);
}

// Formats one line as it would be written to a non-terminal stderr (exposed for tests).
std::string FormatLine(Level level, std::string_view message, std::initializer_list<Field> fields);

}  // namespace cvm::log
