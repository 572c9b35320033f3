// Helpers for tests: where test data lives, temporary directories, and running processes.
#pragma once

#include <string>
#include <vector>

#include "common/bytes.h"

namespace cvm::testing {

// The project's source directory.
std::string SourceDir();
// The build directory (where cvmctl, cvm-agentd and cvm-rp are built).
std::string BinaryDir();
// tests/data/<relative>.
std::string DataPath(const std::string& relative);
// Reads tests/data/<relative>; fails the test (aborts) when missing.
Bytes ReadData(const std::string& relative);

// A fresh directory under $TMPDIR, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;
  std::string err;
};

// Writes a self-signed P-256 certificate for 127.0.0.1 (subjectAltName IP:127.0.0.1) and its
// key (PEM), for HTTPS servers in tests; aborts on failure.
void WriteTlsFiles(const std::string& cert_file, const std::string& key_file);

// Runs argv (argv[0] is a path) with stdin from /dev/null and captures its output.
ProcessResult Run(const std::vector<std::string>& argv);

}  // namespace cvm::testing
