// A small command-line parser shared by the three executables: long options ("--name value" or
// "--name=value"), optional one-letter aliases, repeatable options, positionals, and the standard
// --help. Errors name the offending argument and point at --help.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace cvm {

// Exit codes shared by every cvm-agent executable (see docs/cli.md).
enum ExitCode : int {
  kExitOk = 0,           // success, or evidence verified
  kExitRejected = 1,     // evidence rejected / check failed
  kExitUsage = 2,        // unusable input: bad option, unreadable or malformed file
  kExitUnavailable = 3,  // a device, TPM or service needed was not there or did not answer
  kExitInternal = 4,
};

class ArgParser {
 public:
  // `usage` is the synopsis after the program name, e.g. "verify FILE [options]".
  ArgParser(std::string program, std::string usage, std::string description);

  void Flag(std::string name, char short_name, std::string help, bool* out);
  void Option(std::string name, char short_name, std::string value_name, std::string help,
              std::string* out);
  void Repeated(std::string name, std::string value_name, std::string help,
                std::vector<std::string>* out);
  // Names the positional arguments for the help text and sets how many are allowed.
  void Positionals(std::string names, size_t min, size_t max, std::vector<std::string>* out);
  // Free text appended to --help.
  void Epilog(std::string text);

  // Parses `args` (without the program name). Returns nullopt to continue, or the exit code to
  // exit with now: kExitOk after printing --help to stdout, kExitUsage after printing an error.
  std::optional<int> Parse(std::span<const std::string> args);
  std::optional<int> Parse(int argc, char** argv, int first = 1);

  std::string Help() const;

 private:
  struct Spec {
    std::string name;
    char short_name;
    std::string value_name;  // empty for flags
    std::string help;
    bool* flag = nullptr;
    std::string* value = nullptr;
    std::vector<std::string>* values = nullptr;
  };
  const Spec* Find(std::string_view name) const;
  const Spec* FindShort(char c) const;
  int Fail(const std::string& message) const;

  std::string program_, usage_, description_, epilog_;
  std::vector<Spec> specs_;
  std::string positional_names_;
  size_t min_pos_ = 0, max_pos_ = 0;
  std::vector<std::string>* positionals_ = nullptr;
};

// The options every daemon-style executable takes: --version and --log-level.
struct StandardOptions {
  bool version = false;
  std::string log_level = "info";
};
// Registers --version and --log-level on `parser`, writing into `out`.
void AddStandardOptions(ArgParser& parser, StandardOptions* out);
// After parsing: prints "<program> <version>" and returns kExitOk for --version; applies the log
// level (returns kExitUsage with a message for an unknown level); nullopt to continue.
std::optional<int> ApplyStandardOptions(const StandardOptions& options, const std::string& program);

// The project version, e.g. "0.1.0".
const char* Version();

}  // namespace cvm
