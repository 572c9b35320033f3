// A child process for integration tests (cvm-rp, cvm-agentd): started with its stderr in a file,
// killed (SIGKILL) and reaped when the owner goes out of scope, so a failing test never leaves
// one running.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace cvm::agent::testing {

class ChildProcess {
 public:
  // Starts argv[0] with argv; stdin /dev/null, stdout and stderr appended to `log_file`.
  ChildProcess(const std::vector<std::string>& argv, std::string log_file);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool running() const { return pid_ > 0; }
  // The process id (-1 once reaped).
  pid_t pid() const { return pid_; }
  const std::string& log_file() const { return log_; }
  // The log so far ("" when unreadable).
  std::string Log() const;
  // Waits up to `limit` for the process to exit; its exit code, or -1 when it was killed by a
  // signal or is still running after `limit`.
  int Wait(std::chrono::milliseconds limit);
  // SIGTERM, then Wait(limit).
  int Stop(std::chrono::milliseconds limit = std::chrono::seconds(10));
  // Polls the log until it contains `text` (true) or `limit` passes or the process exits (false).
  bool WaitForLog(const std::string& text, std::chrono::milliseconds limit);

 private:
  pid_t pid_ = -1;
  std::string log_;
};

}  // namespace cvm::agent::testing
