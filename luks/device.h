// libcryptsetup behind a small owner: the only file in the project that includes
// libcryptsetup.h besides the token plugin. Every call's negative errno becomes a Status naming
// the device and the operation.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/file_util.h"
#include "common/status.h"
#include "luks/header.h"
#include "luks/token.h"

struct crypt_device;

namespace cvm::luks {

// How keyslots added by this code derive their key. The keys we store are 32 random bytes from
// the relying party or the kernel, so the PBKDF adds little; its cost only matters for
// passphrases a person chose. Default: libcryptsetup's (argon2id, benchmarked).
struct PbkdfOptions {
  // 0: libcryptsetup's default. Otherwise PBKDF2-SHA256 with exactly this many iterations and
  // no benchmark (tests; slow or memory-starved VMs).
  uint32_t pbkdf2_iterations = 0;
};

// One of the volume's tokens of type cvm.
struct CvmTokenEntry {
  int id = -1;
  std::string json;
  Result<Token> parsed = InvalidInput("not parsed");
};

class Device {
 public:
  // Opens `path` (a block device or an image file) and loads its LUKS2 header. kInvalidInput
  // when it is not LUKS2, kNotFound / kPermissionDenied from the system.
  static Result<Device> Open(const std::string& path);
  // Formats `path` as LUKS2 (aes-xts-plain64, 512-bit volume key, UUID `uuid`, random when
  // empty) with one keyslot that `key` opens. Destroys whatever the device held.
  static Result<Device> Format(const std::string& path, const SecretBytes& key,
                               const PbkdfOptions& pbkdf, const std::string& uuid = "");
  // Adopts a handle libcryptsetup owns (the plugin's); it is not freed.
  static Device Borrow(crypt_device* cd);

  ~Device();
  Device(Device&& o) noexcept
      : cd_(std::exchange(o.cd_, nullptr)), owned_(o.owned_), path_(std::move(o.path_)) {}
  Device& operator=(Device&&) = delete;
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const std::string& path() const { return path_; }
  // The header's UUID ("" when it has none).
  std::string Uuid() const;
  // The header's JSON metadata (keyslots, segments, tokens, digests).
  Result<std::string> MetadataJson() const;
  // The JSON of token `id`.
  Result<std::string> TokenJson(int id) const;
  // Every token of type cvm, parsed (a malformed one is listed with its error).
  std::vector<CvmTokenEntry> CvmTokens() const;

  // Adds a keyslot opened by `new_key`, authorised by `existing` (a passphrase or key that
  // opens any keyslot). Its number.
  Result<int> AddKeyslot(const SecretBytes& existing, const SecretBytes& new_key,
                         const PbkdfOptions& pbkdf);
  // Whether `key` opens keyslot `keyslot` (no activation).
  Status TestKey(int keyslot, const SecretBytes& key) const;
  Status DestroyKeyslot(int keyslot);
  // The keyslots in use (active or unbound), ascending.
  std::vector<int> ActiveKeyslots() const;
  // Writes a token (libcryptsetup assigns its keyslots from the JSON). Its id.
  Result<int> AddToken(const std::string& json);
  Status RemoveToken(int id);

 private:
  Device(crypt_device* cd, bool owned, std::string path)
      : cd_(cd), owned_(owned), path_(std::move(path)) {}
  Status Err(int rc, const std::string& what) const;

  crypt_device* cd_ = nullptr;
  bool owned_ = true;
  std::string path_;
};

// libcryptsetup's compiled-in directory of external token plugins ("" when external tokens are
// disabled in this build of libcryptsetup).
std::string ExternalTokenDir();

// What `Device` gives the plugin and `cvmctl luks`: the token and header checks of header.h run
// on a loaded device.
Result<HeaderFacts> CheckDevice(const Device& device, const Token& token,
                                const HeaderPolicy& policy);

}  // namespace cvm::luks
