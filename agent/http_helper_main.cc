// cvm-agent-http: cvm-agentd's HTTP client process (common/http_helper.h). cvm-agentd starts it
// for each exchange with a relying party (and each Azure IMDS collection) and talks to it over
// fd 3; it runs libcurl, so that the daemon does not, and exits when the daemon closes fd 3 or
// dies. It holds no key and no secret in clear: resources pass through it JWE-encrypted.
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <string_view>

#include "common/http.h"
#include "common/http_helper.h"

// libcurl's librtmp and libldap bring GnuTLS, which would initialise itself in a library
// constructor; this client allows http and https only and its TLS is OpenSSL. GnuTLS's
// documented GNUTLS_SKIP_GLOBAL_INIT (exported, agent/CMakeLists.txt): see docs/performance.md.
extern "C" int _gnutls_global_init_skip(void);
extern "C" int _gnutls_global_init_skip(void) { return 1; }

int main(int argc, char** argv) {
  bool keep_alive = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--keep-alive") {
      keep_alive = true;
    } else {
      std::fprintf(stderr, "cvm-agent-http: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  struct stat st {};
  if (::fstat(cvm::kHttpHelperFd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
    std::fprintf(stderr,
                 "cvm-agent-http: cvm-agentd's HTTP client; it is started by cvm-agentd "
                 "(fd %d is its socket) and is not meant to be run by hand\n",
                 cvm::kHttpHelperFd);
    return 2;
  }
  // Die with the daemon (a daemon that died before this line closed fd 3, which ends the loop
  // below just as well); never dump core (tokens pass through here); keep nothing else the
  // daemon had open (its close-on-exec flags are its own business, not this process's trust).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  ::prctl(PR_SET_DUMPABLE, 0);
  ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (::close_range(cvm::kHttpHelperFd + 1, ~0U, 0) != 0) {
    for (int fd = cvm::kHttpHelperFd + 1; fd < 1024; ++fd) ::close(fd);
  }
  auto http = cvm::NewCurlHttpClient(keep_alive);
  const int code = cvm::ServeHttpHelper(cvm::kHttpHelperFd, *http);
  // The daemon waits for this exit before it delivers the exchange's secrets: exit now, without
  // libcurl's and OpenSSL's clean-up (this process writes no file and buffers no output).
  ::_exit(code);
}
