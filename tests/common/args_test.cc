#include "common/args.h"

#include <catch2/catch.hpp>

namespace cvm {
namespace {

TEST_CASE("ArgParser takes long, short, inline and repeated options and positionals") {
  bool json = false;
  std::string at;
  std::vector<std::string> certs, files;
  ArgParser p("cvmctl verify", "FILE", "");
  p.Flag("json", 'j', "json", &json);
  p.Option("at", 0, "TIME", "time", &at);
  p.Repeated("cert", "FILE", "cert", &certs);
  p.Positionals("FILE", 1, 1, &files);
  std::vector<std::string> args = {
      "report.bin", "--cert", "a.pem", "--cert=b.pem", "-j", "--at", "2025-01-01T00:00:00Z"};
  CHECK_FALSE(p.Parse(args).has_value());
  CHECK(json);
  CHECK(at == "2025-01-01T00:00:00Z");
  CHECK(certs == std::vector<std::string>{"a.pem", "b.pem"});
  CHECK(files == std::vector<std::string>{"report.bin"});
}

TEST_CASE("Unknown options, missing values and wrong positional counts exit 2") {
  std::string v;
  std::vector<std::string> files;
  ArgParser p("t", "", "");
  p.Option("x", 0, "V", "", &v);
  p.Positionals("FILE", 1, 1, &files);
  CHECK(p.Parse(std::vector<std::string>{"--nope", "f"}) == kExitUsage);
  CHECK(p.Parse(std::vector<std::string>{"f", "--x"}) == kExitUsage);
  CHECK(p.Parse(std::vector<std::string>{}) == kExitUsage);
  CHECK(p.Parse(std::vector<std::string>{"a", "b"}) == kExitUsage);
}

TEST_CASE("--help exits 0 and the help lists every option") {
  bool f = false;
  ArgParser p("t", "[options]", "does things");
  p.Flag("force", 'f', "force it", &f);
  CHECK(p.Parse(std::vector<std::string>{"--help"}) == kExitOk);
  CHECK(p.Help().find("--force") != std::string::npos);
  CHECK(p.Help().find("does things") != std::string::npos);
}

TEST_CASE("Everything after -- is positional") {
  std::vector<std::string> pos;
  ArgParser p("t", "", "");
  p.Positionals("ARGS", 0, 5, &pos);
  CHECK_FALSE(p.Parse(std::vector<std::string>{"--", "--help", "-x"}).has_value());
  CHECK(pos == std::vector<std::string>{"--help", "-x"});
}

}  // namespace
}  // namespace cvm
