// A relying party running in-process on loopback ports (one HTTP and one HTTPS listener, port 0
// read back), with the fake appraiser, sealer and signer, a test clock, and an audit file.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rp/audit.h"
#include "rp/http_server.h"
#include "rp/kbs_service.h"
#include "rp/sessions.h"
#include "tests/rp/fakes.h"
#include "tests/testing/testing.h"

namespace cvm::rp::testing {

// measurement aa.., TCB bootloader 3 / snp 8: what the test policy accepts.
extern const char kGoodMeasurement[];
extern const char kTestPolicy[];
inline constexpr char kDiskSecret[] = "top-secret-disk-key";

nlohmann::json GoodEvidence();

// A self-signed certificate and key for 127.0.0.1 (tests/testing/testing.h).
using ::cvm::testing::WriteTlsFiles;

struct RpOptions {
  std::string policy = kTestPolicy;
  bool diagnostic_header = true;
  size_t max_body = 64 << 10;
  int threads = 2;
};

class RpFixture {
 public:
  explicit RpFixture(RpOptions options = {});
  ~RpFixture();

  std::string http_base() const { return http_base_; }
  std::string https_base() const { return https_base_; }
  const std::string& ca_file() const { return ca_file_; }
  // The audit file's records, oldest first.
  std::vector<nlohmann::json> Audit() const;
  std::string AuditText() const;
  // The newest audit record of `event`, or null.
  nlohmann::json LastAudit(const std::string& event) const;

  ::cvm::testing::TempDir dir;
  TestClock clock;
  FakeAppraiser appraiser;
  FakeSealer sealer;
  FakeSigner signer;
  std::unique_ptr<AuditLog> audit;
  std::unique_ptr<SessionStore> sessions;
  std::unique_ptr<KbsService> service;
  std::unique_ptr<HttpServer> server;

 private:
  std::string http_base_, https_base_, ca_file_, audit_file_;
};

}  // namespace cvm::rp::testing
