// Secret delivery. Every sink takes its secret from SecretBytes and never logs it.
//
// - Files: <secrets_dir>/<name> with the configured owner, group and mode, written to a temporary
//   file in the same directory and renamed (common WriteFileAtomic), so a reader sees the whole
//   secret or nothing. Also <cryptsetup_keys_dir>/<volume>.key for cryptsetup sinks that ask.
// - Key sockets (AF_UNIX stream): systemd connects from an abstract address that names who is
//   asking (systemd.exec(5) LoadCredential=, crypttab(5) keyfile=):
//       "\0<random>/unit/<unit>/<credential>"   (credentials socket)
//       "\0<random>/cryptsetup/<volume>"        (cryptsetup socket)
//   The server reads it with getpeername(2), answers with the secret and closes when the
//   configuration allows exactly that request, and otherwise closes without writing a byte.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/config.h"
#include "common/file_util.h"
#include "common/status.h"

namespace cvm::agent {

// The secrets the agent holds, by resource name. Thread-safe.
class SecretStore {
 public:
  void Put(const std::string& name, SecretBytes secret);
  // A copy (the caller wipes it by destroying it); nullopt when not (yet) delivered.
  std::optional<SecretBytes> Get(const std::string& name) const;
  bool Has(const std::string& name) const;
  void Clear();

 private:
  mutable std::mutex mu_;
  std::map<std::string, SecretBytes> secrets_;  // guarded by mu_
};

// The secret `name` once it is in `store`: checks every `poll` until it is there, or until
// `give_up()` returns true (then nullopt). For the key sockets, whose clients may connect before
// the first delivery.
std::optional<SecretBytes> WaitForSecret(
    const SecretStore& store, const std::string& name, const std::function<bool()>& give_up,
    std::chrono::milliseconds poll = std::chrono::milliseconds(50));

// Writes the file sinks of the given resources (name -> secret). All or nothing on the first
// delivery: when one write fails, the files this call created are removed again and the error
// names the file. Files that existed before (a refresh) are replaced atomically one by one.
Status WriteFileSinks(const Config& config,
                      const std::map<std::string, const SecretBytes*>& secrets);

// Removes what an interrupted WriteFileSinks left behind (the daemon killed between creating a
// temporary file and renaming it, e.g. by SIGKILL or a power cut): the files named
// "<file>.tmp.<16 hex digits>" (WriteFileAtomic's temporaries) next to each configured secret
// file in secrets_dir and cryptsetup_keys_dir, and nothing else. A directory that does not exist
// is not an error. Returns how many files it removed, or the first error naming the file.
Result<size_t> RemoveStaleTemporaries(const Config& config);

// Who is asking, from the peer's abstract socket address.
struct KeyRequest {
  enum class Kind { kCredential, kCryptsetup };
  Kind kind = Kind::kCredential;
  std::string unit;        // kCredential
  std::string credential;  // kCredential
  std::string volume;      // kCryptsetup
};
// Parses the abstract name (the bytes after the leading NUL of sun_path). kInvalidInput for any
// other shape, including empty components and extra '/'.
Result<KeyRequest> ParsePeerAddress(std::string_view abstract_name);

// The resource whose secret answers `request`, or nullptr when the configuration allows none.
const ResourceConfig* ResolveKeyRequest(const Config& config, const KeyRequest& request);

// A unix stream socket that hands out keys to the peers that the configuration allows. One
// thread accepts and answers each connection in turn (answers are small, writes are bounded by
// SO_SNDTIMEO, so a peer cannot hold it).
class KeySocketServer {
 public:
  using Lookup = std::function<std::optional<SecretBytes>(const KeyRequest&)>;
  // `kind`: which requests this socket answers; the other kind is refused.
  KeySocketServer(KeyRequest::Kind kind, Lookup lookup);
  ~KeySocketServer();
  KeySocketServer(const KeySocketServer&) = delete;
  KeySocketServer& operator=(const KeySocketServer&) = delete;

  // Creates the socket at `path` (replacing a stale socket file), mode `mode`, and starts serving.
  Status Listen(const std::string& path, mode_t mode = 0600);
  // Serves an inherited listening socket (socket activation). Takes ownership of `fd`.
  Status Adopt(int fd);
  void Stop();

  // Connections answered with a secret / refused, for tests and metrics.
  uint64_t served() const { return served_; }
  uint64_t refused() const { return refused_; }

 private:
  Status StartThread();
  void Loop();
  void Answer(int fd);

  KeyRequest::Kind kind_;
  Lookup lookup_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // eventfd
  std::string path_;  // removed on Stop when we created it
  std::thread thread_;
  std::atomic<uint64_t> served_{0}, refused_{0};
};

}  // namespace cvm::agent
