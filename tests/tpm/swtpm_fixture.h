// A real TPM 2.0 simulator for tests: swtpm on a free loopback port, without a resource manager.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "tests/testing/testing.h"

namespace cvm::testing {

class Swtpm {
 public:
  // Starts `swtpm socket --tpm2` on 127.0.0.1 (server port P, control port P+1, both free when
  // chosen), with fresh state in a temporary directory and TPM2_Startup(CLEAR) already sent, and
  // waits until it accepts connections. Returns nullptr (after printing why) when swtpm cannot
  // be started.
  static std::unique_ptr<Swtpm> Start();
  // Stops the process (SIGTERM, then SIGKILL) and removes its state.
  ~Swtpm();
  Swtpm(const Swtpm&) = delete;
  Swtpm& operator=(const Swtpm&) = delete;

  int port() const { return port_; }
  // "swtpm:host=127.0.0.1,port=P", for our code and for tpm2-tools' --tcti.
  std::string tcti() const;

 private:
  Swtpm() = default;
  TempDir state_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace cvm::testing
