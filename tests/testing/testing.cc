#include "tests/testing/testing.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "common/file_util.h"
#include "common/keys.h"
#include "common/x509.h"

namespace cvm::testing {

std::string SourceDir() { return CVM_TEST_SOURCE_DIR; }
std::string BinaryDir() { return CVM_TEST_BINARY_DIR; }
std::string DataPath(const std::string& relative) {
  return SourceDir() + "/tests/data/" + relative;
}

Bytes ReadData(const std::string& relative) {
  auto data = ReadFile(DataPath(relative));
  if (!data.ok()) {
    std::fprintf(stderr, "missing test data: %s\n", data.status().ToString().c_str());
    std::abort();
  }
  return std::move(data).value();
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/cvm-test.XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) std::abort();
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

namespace {

void Die(const Status& s, const char* what) {
  std::fprintf(stderr, "WriteTlsFiles: %s: %s\n", what, s.ToString().c_str());
  std::abort();
}

std::string Slurp(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}
}  // namespace

ProcessResult Run(const std::vector<std::string>& argv) {
  TempDir dir;
  std::string out_path = dir.File("out"), err_path = dir.File("err");
  pid_t pid = ::fork();
  if (pid == 0) {
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ProcessResult result;
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  int fd = ::open(out_path.c_str(), O_RDONLY);
  result.out = Slurp(fd);
  ::close(fd);
  fd = ::open(err_path.c_str(), O_RDONLY);
  result.err = Slurp(fd);
  ::close(fd);
  return result;
}

void WriteTlsFiles(const std::string& cert_file, const std::string& key_file) {
  auto key = GenerateEcKey(Curve::kP256);
  if (!key.ok()) Die(key.status(), "TLS key");
  CertSpec spec;
  spec.subject = {{"CN", "127.0.0.1"}};
  spec.not_before = std::chrono::system_clock::now() - std::chrono::hours(1);
  spec.not_after = std::chrono::system_clock::now() + std::chrono::hours(24);
  spec.digest = DigestAlg::kSha256;
  // SEQUENCE { [7] OCTET STRING 127.0.0.1 }: GeneralNames with one iPAddress.
  spec.extensions.push_back({"2.5.29.17", Bytes{0x30, 0x06, 0x87, 0x04, 127, 0, 0, 1}, false});
  auto cert = IssueCertificate(spec, key->get(), nullptr, key->get());
  if (!cert.ok()) Die(cert.status(), "TLS certificate");
  auto pem = PrivateKeyToPem(key->get());
  if (!pem.ok()) Die(pem.status(), "TLS key PEM");
  if (Status s = WriteFileAtomic(cert_file, cert->Pem()); !s.ok()) Die(s, "write cert");
  if (Status s = WriteFileAtomic(key_file, pem->view()); !s.ok()) Die(s, "write key");
}

}  // namespace cvm::testing
