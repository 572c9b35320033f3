// File-system helpers for evidence, certificates and secrets.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/bytes.h"

namespace cvm {

inline constexpr size_t kDefaultMaxFileSize = 16 << 20;

// Reads a whole file, refusing files larger than `max_size` (kInvalidInput naming the path).
// Works on sysfs/configfs attributes, whose st_size is not the content length.
Result<Bytes> ReadFile(const std::string& path, size_t max_size = kDefaultMaxFileSize);
Result<std::string> ReadTextFile(const std::string& path, size_t max_size = kDefaultMaxFileSize);

// Writes `data` to `path` atomically: a temporary file in the same directory is created with
// `mode` (O_EXCL, never following links), written, fsync'ed and renamed over `path`, and the
// directory is fsync'ed. Readers see the old file or the whole new one, never a partial write.
// On failure the temporary file is removed and `path` is untouched.
Status WriteFileAtomic(const std::string& path, ByteSpan data, mode_t mode = 0600);
// The same, with the file's owner and group set (fchown) before the rename, so the file never
// appears with another owner. static_cast<uid_t>(-1) / static_cast<gid_t>(-1) leave one unchanged.
Status WriteFileAtomic(const std::string& path, ByteSpan data, mode_t mode, uid_t owner,
                       gid_t group);
inline Status WriteFileAtomic(const std::string& path, std::string_view text, mode_t mode = 0600) {
  return WriteFileAtomic(path, AsBytes(text), mode);
}

// Writes a sysfs/configfs attribute: the whole value in one write(2) to the existing file, as
// those file systems require (no temporary file, no truncation). A short write is kIoError.
Status WriteAttribute(const std::string& path, ByteSpan data);

// Creates a directory and its parents (mkdir -p) with `mode` for the ones it creates.
Status MakeDirs(const std::string& path, mode_t mode = 0755);

// Bytes that are wiped (OPENSSL_cleanse) when destroyed or cleared. Move-only.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(Bytes b) : b_(std::move(b)) {}
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& o) noexcept : b_(std::move(o.b_)) { o.b_.clear(); }
  SecretBytes& operator=(SecretBytes&& o) noexcept;
  ~SecretBytes() { Clear(); }

  ByteSpan view() const { return b_; }
  size_t size() const { return b_.size(); }
  bool empty() const { return b_.empty(); }
  void Clear();

 private:
  Bytes b_;
};

}  // namespace cvm
