#include "common/args.h"

#include <cstdio>

#include "common/log.h"

namespace cvm {

#ifndef CVM_VERSION
#error "CVM_VERSION must be defined by the build"
#endif

const char* Version() { return CVM_VERSION; }

ArgParser::ArgParser(std::string program, std::string usage, std::string description)
    : program_(std::move(program)), usage_(std::move(usage)), description_(std::move(description)) {
  specs_.push_back({"help", 'h', "", "show this help and exit", nullptr, nullptr, nullptr});
}

void ArgParser::Flag(std::string name, char s, std::string help, bool* out) {
  specs_.push_back({std::move(name), s, "", std::move(help), out, nullptr, nullptr});
}

void ArgParser::Option(std::string name, char s, std::string value_name, std::string help,
                       std::string* out) {
  specs_.push_back(
      {std::move(name), s, std::move(value_name), std::move(help), nullptr, out, nullptr});
}

void ArgParser::Repeated(std::string name, std::string value_name, std::string help,
                         std::vector<std::string>* out) {
  specs_.push_back({std::move(name), 0, std::move(value_name), std::move(help) + " (repeatable)",
                    nullptr, nullptr, out});
}

void ArgParser::Positionals(std::string names, size_t min, size_t max,
                            std::vector<std::string>* out) {
  positional_names_ = std::move(names);
  min_pos_ = min;
  max_pos_ = max;
  positionals_ = out;
}

void ArgParser::Epilog(std::string text) { epilog_ = std::move(text); }

const ArgParser::Spec* ArgParser::Find(std::string_view name) const {
  for (const auto& s : specs_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const ArgParser::Spec* ArgParser::FindShort(char c) const {
  for (const auto& s : specs_) {
    if (s.short_name != 0 && s.short_name == c) return &s;
  }
  return nullptr;
}

int ArgParser::Fail(const std::string& message) const {
  std::fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", program_.c_str(),
               message.c_str(), program_.c_str());
  return kExitUsage;
}

std::string ArgParser::Help() const {
  std::string out = "Usage: " + program_ + " " + usage_ + "\n";
  if (!description_.empty()) out += "\n" + description_ + "\n";
  out += "\nOptions:\n";
  for (const auto& s : specs_) {
    std::string left = "  ";
    left += s.short_name ? std::string("-") + s.short_name + ", " : "    ";
    left += "--" + s.name;
    if (!s.value_name.empty()) left += " " + s.value_name;
    if (left.size() < 30)
      left.resize(30, ' ');
    else
      left += "  ";
    out += left + s.help + "\n";
  }
  if (!epilog_.empty()) out += "\n" + epilog_ + "\n";
  return out;
}

std::optional<int> ArgParser::Parse(int argc, char** argv, int first) {
  std::vector<std::string> args;
  for (int i = first; i < argc; ++i) args.emplace_back(argv[i]);
  return Parse(args);
}

std::optional<int> ArgParser::Parse(std::span<const std::string> args) {
  std::vector<std::string> positionals;
  bool only_positionals = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (only_positionals || arg == "-" || arg.size() < 2 || arg[0] != '-') {
      positionals.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positionals = true;
      continue;
    }
    const Spec* spec = nullptr;
    std::optional<std::string> inline_value;
    if (arg[1] == '-') {
      std::string name = arg.substr(2);
      size_t eq = name.find('=');
      if (eq != std::string::npos) {
        inline_value = name.substr(eq + 1);
        name.resize(eq);
      }
      spec = Find(name);
      if (spec == nullptr) return Fail("unknown option '--" + name + "'");
    } else {
      if (arg.size() != 2) return Fail("unknown option '" + arg + "'");
      spec = FindShort(arg[1]);
      if (spec == nullptr) return Fail("unknown option '" + arg + "'");
    }
    if (spec->name == "help") {
      std::fputs(Help().c_str(), stdout);
      return kExitOk;
    }
    if (spec->value_name.empty()) {
      if (inline_value) return Fail("option '--" + spec->name + "' takes no value");
      *spec->flag = true;
      continue;
    }
    std::string value;
    if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return Fail("option '--" + spec->name + "' needs a value (" + spec->value_name + ")");
    }
    if (spec->values) {
      spec->values->push_back(std::move(value));
    } else {
      *spec->value = std::move(value);
    }
  }
  if (positionals.size() < min_pos_) {
    return Fail("missing argument" +
                (positional_names_.empty() ? "" : " (" + positional_names_ + ")"));
  }
  if (positionals.size() > max_pos_)
    return Fail("unexpected argument '" + positionals[max_pos_] + "'");
  if (positionals_) *positionals_ = std::move(positionals);
  return std::nullopt;
}

void AddStandardOptions(ArgParser& parser, StandardOptions* out) {
  parser.Option("log-level", 0, "LEVEL", "error, warning, notice, info or debug (default info)",
                &out->log_level);
  parser.Flag("version", 0, "print the version and exit", &out->version);
}

std::optional<int> ApplyStandardOptions(const StandardOptions& options,
                                        const std::string& program) {
  if (options.version) {
    std::printf("%s %s\n", program.c_str(), Version());
    return kExitOk;
  }
  auto level = log::ParseLevel(options.log_level);
  if (!level.ok()) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(), level.status().ToString().c_str());
    return kExitUsage;
  }
  log::SetLevel(*level);
  return std::nullopt;
}

}  // namespace cvm
