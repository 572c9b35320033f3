#include "common/log.h"

#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace cvm::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::mutex g_mu;
std::string g_program = "cvm";  // guarded by g_mu

enum class Sink { kJournal, kPrefixed, kTerminal };

// journald sets JOURNAL_STREAM=<dev>:<inode> for the stream it connected to stderr (systemd.exec).
Sink DetectSink() {
  if (const char* js = std::getenv("JOURNAL_STREAM")) {
    std::string_view text(js);
    size_t colon = text.find(':');
    uint64_t dev = 0, ino = 0;
    struct stat st {};
    if (colon != std::string_view::npos && fstat(STDERR_FILENO, &st) == 0) {
      auto d = std::from_chars(text.data(), text.data() + colon, dev);
      auto i = std::from_chars(text.data() + colon + 1, text.data() + text.size(), ino);
      if (d.ec == std::errc() && i.ec == std::errc() && dev == st.st_dev && ino == st.st_ino) {
        return Sink::kJournal;
      }
    }
  }
  return isatty(STDERR_FILENO) ? Sink::kTerminal : Sink::kPrefixed;
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kError:
      return "error";
    case Level::kWarning:
      return "warning";
    case Level::kNotice:
      return "notice";
    case Level::kInfo:
      return "info";
    case Level::kDebug:
      return "debug";
  }
  return "info";
}

std::string FieldsSuffix(std::initializer_list<Field> fields) {
  std::string out;
  for (const auto& f : fields) {
    out += out.empty() ? " (" : ", ";
    for (char c : f.key) out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
    out += "=";
    out += f.value;
  }
  if (!out.empty()) out += ")";
  return out;
}

}  // namespace

Result<Level> ParseLevel(std::string_view name) {
  for (Level l : {Level::kError, Level::kWarning, Level::kNotice, Level::kInfo, Level::kDebug}) {
    if (name == LevelName(l)) return l;
  }
  return InvalidInput("unknown log level \"" + std::string(name) +
                      "\" (expected error, warning, notice, info or debug)");
}

void SetLevel(Level level) { g_level = level; }
Level GetLevel() { return g_level; }

void SetProgramName(std::string_view name) {
  std::lock_guard lock(g_mu);
  g_program = name;
}

std::string FormatLine(Level level, std::string_view message, std::initializer_list<Field> fields) {
  // Appended piecewise: GCC 12 at -O3 warns falsely (-Wrestrict) on "<" + std::to_string(...).
  std::string line = "<";
  line += std::to_string(static_cast<int>(level));
  line += ">";
  line += message;
  line += FieldsSuffix(fields);
  line += "\n";
  return line;
}

void Write(Level level, std::string_view message, std::initializer_list<Field> fields) {
  if (static_cast<int>(level) > static_cast<int>(g_level.load())) return;
  static const Sink sink = DetectSink();
  if (sink == Sink::kJournal) {
    std::vector<std::string> items;
    items.push_back("MESSAGE=" + std::string(message));
    items.push_back("PRIORITY=" + std::to_string(static_cast<int>(level)));
    {
      std::lock_guard lock(g_mu);
      items.push_back("SYSLOG_IDENTIFIER=" + g_program);
    }
    for (const auto& f : fields) items.push_back("CVM_" + std::string(f.key) + "=" + f.value);
    std::vector<struct iovec> iov;
    iov.reserve(items.size());
    for (auto& s : items) iov.push_back({s.data(), s.size()});
    if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) >= 0) return;
  }
  std::string line;
  if (sink == Sink::kTerminal) {
    std::lock_guard lock(g_mu);
    line = g_program + ": " + std::string(LevelName(level)) + ": " + std::string(message) +
           FieldsSuffix(fields) + "\n";
  } else {
    line = FormatLine(level, message, fields);
  }
  std::lock_guard lock(g_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace cvm::log
