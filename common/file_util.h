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
// On failure before the rename the temporary file is removed and `path` is untouched; when only
// the directory fsync fails, `path` holds the new data but the rename may not survive a crash,
// and the error (kIoError, "fsync directory ...") says so.
Status WriteFileAtomic(const std::string& path, ByteSpan data, mode_t mode = 0600);
// The same, with the file's owner and group set (fchown) before the rename, so the file never
// appears with another owner. static_cast<uid_t>(-1) / static_cast<gid_t>(-1) leave one unchanged.
Status WriteFileAtomic(const std::string& path, ByteSpan data, mode_t mode, uid_t owner,
                       gid_t group);
inline Status WriteFileAtomic(const std::string& path, std::string_view text, mode_t mode = 0600) {
  return WriteFileAtomic(path, AsBytes(text), mode);
}

// Makes a directory's entries (a rename, a new file) durable: open(O_DIRECTORY) and fsync(2).
// kNotFound / kIoError naming the directory when either fails.
Status SyncDirectory(const std::string& dir);

// Writes a sysfs/configfs attribute: the whole value in one write(2) to the existing file, as
// those file systems require (no temporary file, no truncation). A short write is kIoError.
Status WriteAttribute(const std::string& path, ByteSpan data);

// Creates a directory and its parents (mkdir -p) with `mode` for the ones it creates.
Status MakeDirs(const std::string& path, mode_t mode = 0755);

// Bytes that are wiped (OPENSSL_cleanse) when destroyed or cleared. Move-only. The buffer never
// grows after construction, so no reallocation leaves an unwiped copy behind: allocate the final
// size up front and fill it through data().
class SecretBytes {
 public:
  SecretBytes() = default;
  // Takes the buffer: pass an rvalue (std::move) so that no unwiped copy remains.
  explicit SecretBytes(Bytes b) : b_(std::move(b)) {}
  // `n` zero bytes, to be filled in place.
  explicit SecretBytes(size_t n) : b_(n, 0) {}
  // Copies `b` into a new buffer of exactly its size.
  static SecretBytes CopyOf(ByteSpan b) { return SecretBytes(Bytes(b.begin(), b.end())); }
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& o) noexcept : b_(std::move(o.b_)) { o.b_.clear(); }
  SecretBytes& operator=(SecretBytes&& o) noexcept;
  ~SecretBytes() { Clear(); }

  ByteSpan view() const { return b_; }
  std::string_view chars() const { return AsChars(b_); }
  uint8_t* data() { return b_.data(); }
  size_t size() const { return b_.size(); }
  bool empty() const { return b_.empty(); }
  // Shortens to `n` bytes (REQUIRES: n <= size()), wiping the cut tail; never reallocates.
  void Truncate(size_t n);
  void Clear();

 private:
  Bytes b_;
};

// Reads a whole secret file (a private key, a sealed secret) into SecretBytes with no other copy
// in memory: the size comes from fstat(2) and the data is read straight into a buffer of that
// size, which is wiped on every error. The file must be a regular file of at most `max_size`
// bytes that does not grow while it is read (kInvalidInput otherwise; symbolic links are
// followed, as mounted secrets use them). kNotFound / kIoError from the system calls, naming
// `path`.
Result<SecretBytes> ReadSecretFile(const std::string& path, size_t max_size = 1 << 20);

// Wipes a string that held secret text (OPENSSL_cleanse) and empties it.
void WipeString(std::string& s);

}  // namespace cvm
