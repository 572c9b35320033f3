#include "agent/sinks.h"

#include <dirent.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace cvm::agent {

void SecretStore::Put(const std::string& name, SecretBytes secret) {
  std::lock_guard<std::mutex> lock(mu_);
  secrets_[name] = std::move(secret);
}

std::optional<SecretBytes> SecretStore::Get(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = secrets_.find(name);
  if (it == secrets_.end()) return std::nullopt;
  return SecretBytes(ToBytes(it->second.view()));
}

bool SecretStore::Has(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  return secrets_.count(name) != 0;
}

void SecretStore::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  secrets_.clear();  // SecretBytes wipe themselves
}

namespace {

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace

std::optional<SecretBytes> WaitForSecret(const SecretStore& store, const std::string& name,
                                         const std::function<bool()>& give_up,
                                         std::chrono::milliseconds poll) {
  while (true) {
    if (auto secret = store.Get(name)) return secret;
    if (give_up()) return std::nullopt;
    std::this_thread::sleep_for(poll);
  }
}

Status WriteFileSinks(const Config& config,
                      const std::map<std::string, const SecretBytes*>& secrets) {
  struct Job {
    std::string path;
    const SecretBytes* secret;
    uid_t owner;
    gid_t group;
    mode_t mode;
  };
  std::vector<Job> jobs;
  for (const auto& [name, secret] : secrets) {
    const ResourceConfig* r = config.FindResource(name);
    if (r == nullptr) return Internal("no resource named '" + name + "'");
    if (r->file) {
      jobs.push_back({config.paths.secrets_dir + "/" + r->file->name, secret, r->file->owner,
                      r->file->group, r->file->mode});
    }
    if (r->cryptsetup && r->cryptsetup->keyfile) {
      jobs.push_back({config.paths.cryptsetup_keys_dir + "/" + r->cryptsetup->volume + ".key",
                      secret, 0, 0, 0600});
    }
  }
  if (jobs.empty()) return Status::Ok();
  std::vector<std::string> created;
  auto undo = [&](Status s) {
    for (const auto& path : created) ::unlink(path.c_str());
    return s;
  };
  for (const Job& job : jobs) {
    std::string dir = job.path.substr(0, job.path.rfind('/'));
    Status made = MakeDirs(dir, 0755);
    if (!made.ok()) return undo(made.WithContext("secret directory"));
    bool existed = FileExists(job.path);
    Status s = WriteFileAtomic(job.path, job.secret->view(), job.mode, job.owner, job.group);
    if (!s.ok()) return undo(s.WithContext("writing secret file " + job.path));
    if (!existed) created.push_back(job.path);
  }
  return Status::Ok();
}

Result<size_t> RemoveStaleTemporaries(const Config& config) {
  // Directory -> the names of the secret files configured in it.
  std::map<std::string, std::vector<std::string>> targets;
  for (const auto& r : config.resources) {
    if (r.file) targets[config.paths.secrets_dir].push_back(r.file->name);
    if (r.cryptsetup && r.cryptsetup->keyfile) {
      targets[config.paths.cryptsetup_keys_dir].push_back(r.cryptsetup->volume + ".key");
    }
  }
  auto is_temporary_of = [](std::string_view entry, const std::string& file) {
    constexpr std::string_view kTmp = ".tmp.";
    constexpr size_t kHexDigits = 16;  // WriteFileAtomic: 8 random bytes in hex
    if (entry.size() != file.size() + kTmp.size() + kHexDigits) return false;
    if (entry.substr(0, file.size()) != file || entry.substr(file.size(), kTmp.size()) != kTmp) {
      return false;
    }
    for (char c : entry.substr(file.size() + kTmp.size())) {
      if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
  };
  size_t removed = 0;
  for (const auto& [dir, files] : targets) {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      if (errno == ENOENT) continue;
      return ErrnoStatus(errno, "open directory " + dir);
    }
    std::vector<std::string> stale;
    while (dirent* e = ::readdir(d)) {
      for (const auto& file : files) {
        if (is_temporary_of(e->d_name, file)) stale.push_back(dir + "/" + e->d_name);
      }
    }
    ::closedir(d);
    for (const auto& path : stale) {
      if (::unlink(path.c_str()) != 0) {
        if (errno == ENOENT) continue;
        return ErrnoStatus(errno, "remove " + path);
      }
      ++removed;
    }
  }
  return removed;
}

Result<KeyRequest> ParsePeerAddress(std::string_view name) {
  // "<random>/unit/<unit>/<credential>" or "<random>/cryptsetup/<volume>"
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t slash = name.find('/', start);
    parts.push_back(name.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  for (auto p : parts) {
    if (p.empty()) return InvalidInput("peer address has an empty component");
    if (p.find('\0') != std::string_view::npos) {
      return InvalidInput("peer address contains a NUL byte");
    }
  }
  KeyRequest r;
  if (parts.size() == 4 && parts[1] == "unit") {
    r.kind = KeyRequest::Kind::kCredential;
    r.unit = parts[2];
    r.credential = parts[3];
    return r;
  }
  if (parts.size() == 3 && parts[1] == "cryptsetup") {
    r.kind = KeyRequest::Kind::kCryptsetup;
    r.volume = parts[2];
    return r;
  }
  return InvalidInput(
      "peer address is neither <random>/unit/<unit>/<credential> nor "
      "<random>/cryptsetup/<volume>");
}

const ResourceConfig* ResolveKeyRequest(const Config& config, const KeyRequest& request) {
  for (const auto& r : config.resources) {
    if (request.kind == KeyRequest::Kind::kCredential && r.credential &&
        r.credential->name == request.credential) {
      for (const auto& unit : r.credential->units) {
        if (unit == request.unit) return &r;
      }
    }
    if (request.kind == KeyRequest::Kind::kCryptsetup && r.cryptsetup &&
        r.cryptsetup->volume == request.volume) {
      return &r;
    }
  }
  return nullptr;
}

KeySocketServer::KeySocketServer(KeyRequest::Kind kind, Lookup lookup)
    : kind_(kind), lookup_(std::move(lookup)) {}

KeySocketServer::~KeySocketServer() { Stop(); }

Status KeySocketServer::Listen(const std::string& path, mode_t mode) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return InvalidInput("socket path too long: " + path);
  std::memcpy(addr.sun_path, path.data(), path.size());
  size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    CVM_RETURN_IF_ERROR(MakeDirs(path.substr(0, slash), 0755));
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(errno, "socket");
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      ::close(fd);
      return InvalidInput(path + " exists and is not a socket");
    }
    ::unlink(path.c_str());
  }
  // Bind under a restrictive umask so the socket never exists with a wider mode.
  mode_t old = ::umask(0177);
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int err = errno;
  ::umask(old);
  if (rc != 0) {
    ::close(fd);
    return ErrnoStatus(err, "bind " + path);
  }
  if (::chmod(path.c_str(), mode) != 0 || ::listen(fd, 64) != 0) {
    err = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return ErrnoStatus(err, "listen " + path);
  }
  listen_fd_ = fd;
  path_ = path;
  return StartThread();
}

Status KeySocketServer::Adopt(int fd) {
  listen_fd_ = fd;
  return StartThread();
}

Status KeySocketServer::StartThread() {
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) return ErrnoStatus(errno, "eventfd");
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void KeySocketServer::Stop() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(stop_fd_, &one, sizeof(one));
    thread_.join();
  }
  if (stop_fd_ >= 0) ::close(stop_fd_);
  stop_fd_ = -1;
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  if (!path_.empty()) ::unlink(path_.c_str());
  path_.clear();
}

void KeySocketServer::Loop() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    int n = ::poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      log::Error(std::string("key socket: poll: ") + std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    if (fds[0].revents == 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Answer(fd);
    ::close(fd);
  }
}

void KeySocketServer::Answer(int fd) {
  const char* socket_name = kind_ == KeyRequest::Kind::kCredential ? "credentials" : "cryptsetup";
  sockaddr_un peer{};
  socklen_t len = sizeof(peer);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0 ||
      len <= offsetof(sockaddr_un, sun_path) + 1 || peer.sun_path[0] != '\0') {
    ++refused_;
    log::Warning(std::string(socket_name) + " socket: refused a peer without an abstract address");
    return;
  }
  std::string_view name(peer.sun_path + 1, len - offsetof(sockaddr_un, sun_path) - 1);
  auto request = ParsePeerAddress(name);
  if (!request.ok() || request->kind != kind_) {
    ++refused_;
    log::Warning(std::string(socket_name) + " socket: refused a peer: " +
                 (request.ok() ? std::string("wrong kind of request for this socket")
                               : request.status().message()));
    return;
  }
  std::string who = request->kind == KeyRequest::Kind::kCredential
                        ? "unit " + request->unit + " credential " + request->credential
                        : "volume " + request->volume;
  std::optional<SecretBytes> secret = lookup_(*request);
  if (!secret) {
    ++refused_;
    log::Warning(std::string(socket_name) + " socket: refused " + who +
                     " (not allowed by the configuration, or not delivered yet)",
                 {{"KEY_REQUEST", who}});
    return;
  }
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  ByteSpan data = secret->view();
  while (!data.empty()) {
    ssize_t w = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      ++refused_;
      log::Warning(std::string(socket_name) + " socket: could not write to " + who);
      return;
    }
    data = data.subspan(static_cast<size_t>(w));
  }
  ++served_;
  log::Info(std::string(socket_name) + " socket: served " + who, {{"KEY_REQUEST", who}});
}

}  // namespace cvm::agent
