#include "tests/tpm/swtpm_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace cvm::testing {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

bool PortFree(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a = Loopback(port);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

// An ephemeral port P such that P and P+1 are both free right now.
int PickPortPair() {
  for (int tries = 0; tries < 50; ++tries) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    sockaddr_in a = Loopback(0);
    socklen_t len = sizeof(a);
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port = ntohs(a.sin_port);
    }
    ::close(fd);
    if (port > 0 && port < 65535 && PortFree(port) && PortFree(port + 1)) return port;
  }
  return 0;
}

bool Accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a = Loopback(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

// True when process `pid` owns the socket listening on 127.0.0.1:`port`. Tests run in parallel:
// another test's swtpm may have taken the port we picked, and then answers our connect().
bool OwnsListeningSocket(pid_t pid, int port) {
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  char want[32];
  std::snprintf(want, sizeof(want), "0100007F:%04X", port);
  std::string inode;
  while (std::getline(tcp, line)) {
    std::istringstream fields(line);
    std::string sl, local, remote, state, queues, timer, retr, uid, timeout, ino;
    fields >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> ino;
    if (local == want && state == "0A") inode = ino;
  }
  if (inode.empty()) return false;
  const std::string target = "socket:[" + inode + "]";
  std::error_code ec;
  for (const auto& fd :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::error_code link_ec;
    if (std::filesystem::read_symlink(fd.path(), link_ec).string() == target) return true;
  }
  return false;
}

}  // namespace

std::unique_ptr<Swtpm> Swtpm::Start() {
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::unique_ptr<Swtpm> s(new Swtpm());
    s->port_ = PickPortPair();
    if (s->port_ == 0) break;
    std::string server = "type=tcp,port=" + std::to_string(s->port_) + ",bindaddr=127.0.0.1";
    std::string ctrl = "type=tcp,port=" + std::to_string(s->port_ + 1) + ",bindaddr=127.0.0.1";
    std::string state = "dir=" + s->state_.path();
    std::string log = "file=" + s->state_.File("swtpm.log");
    std::vector<std::string> argv = {"/usr/bin/swtpm",
                                     "socket",
                                     "--tpm2",
                                     "--server",
                                     server,
                                     "--ctrl",
                                     ctrl,
                                     "--tpmstate",
                                     state,
                                     "--flags",
                                     "not-need-init,startup-clear",
                                     "--log",
                                     log};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) break;
    if (pid == 0) {
      int devnull = ::open("/dev/null", O_RDWR);
      if (devnull >= 0) {
        ::dup2(devnull, 0);
        ::dup2(devnull, 1);
        ::dup2(devnull, 2);
      }
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    s->pid_ = pid;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        s->pid_ = -1;  // exited (port taken in the meantime?): try another port
        break;
      }
      if (Accepts(s->port_)) {
        if (OwnsListeningSocket(pid, s->port_)) return s;
        break;  // someone else's swtpm: ours will fail to bind; try another port
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  std::fprintf(stderr, "swtpm could not be started\n");
  return nullptr;
}

Swtpm::~Swtpm() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 250; ++i) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

std::string Swtpm::tcti() const { return "swtpm:host=127.0.0.1,port=" + std::to_string(port_); }

}  // namespace cvm::testing
