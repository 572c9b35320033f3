#include "common/file_util.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/encoding.h"

namespace cvm {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

Status WriteAll(int fd, ByteSpan data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, "write " + path);
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

Result<Bytes> ReadFile(const std::string& path, size_t max_size) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus(errno, "open " + path);
  Bytes out;
  uint8_t buf[16384];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, "read " + path);
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_size) {
      return InvalidInput(path + ": larger than " + std::to_string(max_size) + " bytes");
    }
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

Result<std::string> ReadTextFile(const std::string& path, size_t max_size) {
  CVM_ASSIGN_OR_RETURN(Bytes b, ReadFile(path, max_size));
  return std::string(AsChars(b));
}

Status WriteFileAtomic(const std::string& path, ByteSpan data, mode_t mode) {
  return WriteFileAtomic(path, data, mode, static_cast<uid_t>(-1), static_cast<gid_t>(-1));
}

Status WriteFileAtomic(const std::string& path, ByteSpan data, mode_t mode, uid_t owner,
                       gid_t group) {
  uint8_t rnd[8];
  if (RAND_bytes(rnd, sizeof(rnd)) != 1) return Internal("RAND_bytes failed");
  std::string tmp = path + ".tmp." + HexEncode(rnd);
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (fd.get() < 0) return ErrnoStatus(errno, "create " + tmp);
  auto fail = [&](Status s) {
    ::unlink(tmp.c_str());
    return s;
  };
  // The umask may have narrowed the mode; set it exactly.
  if (::fchmod(fd.get(), mode) != 0) return fail(ErrnoStatus(errno, "chmod " + tmp));
  if ((owner != static_cast<uid_t>(-1) || group != static_cast<gid_t>(-1)) &&
      ::fchown(fd.get(), owner, group) != 0) {
    return fail(ErrnoStatus(errno, "chown " + tmp));
  }
  Status s = WriteAll(fd.get(), data, tmp);
  if (!s.ok()) return fail(s);
  if (::fsync(fd.get()) != 0) return fail(ErrnoStatus(errno, "fsync " + tmp));
  if (::close(fd.Release()) != 0) return fail(ErrnoStatus(errno, "close " + tmp));
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return fail(ErrnoStatus(errno, "rename to " + path));
  Status synced = SyncDirectory(DirName(path));
  if (!synced.ok()) {
    return IoError(path +
                   " was written, but the rename may not survive a crash: " + synced.message());
  }
  return Status::Ok();
}

Status SyncDirectory(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus(errno, "open directory " + dir);
  if (::fsync(fd.get()) != 0) return ErrnoStatus(errno, "fsync directory " + dir);
  return Status::Ok();
}

Result<SecretBytes> ReadSecretFile(const std::string& path, size_t max_size) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus(errno, "open " + path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "stat " + path);
  if (!S_ISREG(st.st_mode)) return InvalidInput(path + ": not a regular file");
  if (st.st_size < 0 || static_cast<uint64_t>(st.st_size) > max_size) {
    return InvalidInput(path + ": larger than " + std::to_string(max_size) + " bytes");
  }
  SecretBytes out(static_cast<size_t>(st.st_size));  // wiped by its destructor on every return
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::read(fd.get(), out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, "read " + path);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  out.Truncate(done);  // the file shrank since fstat
  uint8_t extra = 0;
  ssize_t n;
  do {
    n = ::read(fd.get(), &extra, 1);
  } while (n < 0 && errno == EINTR);
  OPENSSL_cleanse(&extra, sizeof(extra));
  if (n < 0) return ErrnoStatus(errno, "read " + path);
  if (n > 0) return InvalidInput(path + ": grew while being read");
  return out;
}

void WipeString(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

Status WriteAttribute(const std::string& path, ByteSpan data) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus(errno, "open " + path);
  ssize_t n = ::write(fd.get(), data.data(), data.size());
  if (n < 0) return ErrnoStatus(errno, "write " + path);
  if (static_cast<size_t>(n) != data.size()) return IoError("short write to " + path);
  return Status::Ok();
}

Status MakeDirs(const std::string& path, mode_t mode) {
  if (path.empty()) return InvalidInput("empty directory path");
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    std::string prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, "mkdir " + prefix);
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return IoError(path + " is not a directory");
  }
  return Status::Ok();
}

SecretBytes& SecretBytes::operator=(SecretBytes&& o) noexcept {
  if (this != &o) {
    Clear();
    b_ = std::move(o.b_);
    o.b_.clear();
  }
  return *this;
}

void SecretBytes::Truncate(size_t n) {
  if (n >= b_.size()) return;
  OPENSSL_cleanse(b_.data() + n, b_.size() - n);
  b_.resize(n);  // shrinking never reallocates
}

void SecretBytes::Clear() {
  if (!b_.empty()) OPENSSL_cleanse(b_.data(), b_.size());
  b_.clear();
  b_.shrink_to_fit();
}

}  // namespace cvm
