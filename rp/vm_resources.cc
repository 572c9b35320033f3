#include "rp/vm_resources.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "common/digest.h"
#include "common/encoding.h"
#include "evidence/kbs.h"

namespace cvm::rp {
namespace {

// Closes a descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

bool AllZero(const Bytes& b) {
  for (uint8_t v : b) {
    if (v != 0) return false;
  }
  return true;
}

Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return ErrnoStatus(errno, path);
    if (!S_ISDIR(st.st_mode)) return InvalidInput(path + " is not a directory");
    return Status::Ok();
  }
  return ErrnoStatus(errno, "mkdir " + path);
}

Status SyncDir(const std::string& path) {
  Fd d{::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd < 0 || ::fsync(d.fd) != 0) return ErrnoStatus(errno, "fsync " + path);
  return Status::Ok();
}

}  // namespace

const char* VmIdentityFieldName(VmIdentityField field) {
  switch (field) {
    case VmIdentityField::kMeasurement:
      return "measurement";
    case VmIdentityField::kHostData:
      return "host_data";
    case VmIdentityField::kChipId:
      return "chip_id";
  }
  return "?";
}

Result<VmIdentityField> ParseVmIdentityField(std::string_view name) {
  for (auto f :
       {VmIdentityField::kMeasurement, VmIdentityField::kHostData, VmIdentityField::kChipId}) {
    if (name == VmIdentityFieldName(f)) return f;
  }
  // Appended piece by piece: GCC 12 -O3 reports a false -Wrestrict for "'" + std::string(...).
  std::string message = "'";
  message.append(name.substr(0, 64));
  message += "' is not an identity field (measurement, host_data, chip_id)";
  return InvalidInput(message);
}

Result<std::string> DeriveVmId(const evidence::Claims& claims,
                               const std::vector<VmIdentityField>& identity) {
  if (identity.empty()) return InvalidInput("no identity field configured");
  nlohmann::json id = {{"tee", std::string(evidence::TeeKindName(claims.tee))}};
  for (VmIdentityField f : identity) {
    const Bytes* value = nullptr;
    switch (f) {
      case VmIdentityField::kMeasurement:
        value = &claims.measurement;
        break;
      case VmIdentityField::kHostData:
        value = &claims.host_data;
        break;
      case VmIdentityField::kChipId:
        value = &claims.chip_id;
        break;
    }
    if (value->empty()) {
      return Rejected(std::string("identity field ") + VmIdentityFieldName(f) + ": " +
                      std::string(evidence::TeeKindName(claims.tee)) + " evidence has none");
    }
    if (f == VmIdentityField::kChipId && AllZero(*value)) {
      // A masked CHIP_ID (guest policy bit) is the same for every VM on every host.
      return Rejected("identity field chip_id: the platform masks CHIP_ID (all zeros)");
    }
    id[VmIdentityFieldName(f)] = HexEncode(*value);
  }
  CVM_ASSIGN_OR_RETURN(std::string canonical, evidence::CanonicalJson(id));
  return HexEncode(Sha256(AsBytes(canonical)));
}

Result<std::unique_ptr<VmResourceStore>> VmResourceStore::Open(VmResourceConfig config) {
  if (config.dir.empty()) return InvalidInput("vm_resources.dir is required");
  if (config.identity.empty()) return InvalidInput("vm_resources.identity is empty");
  if (config.value_size < 16 || config.value_size > 4096) {
    return InvalidInput("vm_resources.size must be 16 to 4096 bytes");
  }
  if (config.max_per_vm == 0) return InvalidInput("vm_resources.max_per_vm must be at least 1");
  CVM_RETURN_IF_ERROR(MakeDir(config.dir).WithContext("vm_resources.dir"));
  return std::unique_ptr<VmResourceStore>(new VmResourceStore(std::move(config)));
}

Result<std::string> VmResourceStore::PathOf(std::string_view vm_id,
                                            std::string_view type_tag) const {
  if (vm_id.size() != 64 || !HexDecode(vm_id).ok()) return Internal("malformed VM id");
  CVM_RETURN_IF_ERROR(evidence::ValidateVmResourceTypeTag(type_tag));
  return config_.dir + "/" + std::string(vm_id) + "/" + std::string(type_tag);
}

Result<std::optional<SecretBytes>> VmResourceStore::Get(std::string_view vm_id,
                                                        std::string_view type_tag) const {
  CVM_ASSIGN_OR_RETURN(std::string path, PathOf(vm_id, type_tag));
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<SecretBytes>();
    return ErrnoStatus(errno, path);
  }
  if (!S_ISREG(st.st_mode)) return Internal(path + " is not a regular file");
  CVM_ASSIGN_OR_RETURN(SecretBytes value, ReadSecretFile(path, 4096));
  return std::optional<SecretBytes>(std::move(value));
}

Result<VmResourceStore::Value> VmResourceStore::GetOrCreate(std::string_view vm_id,
                                                            std::string_view type_tag) {
  std::lock_guard lock(mu_);
  CVM_ASSIGN_OR_RETURN(std::optional<SecretBytes> existing, Get(vm_id, type_tag));
  if (existing) return Value{std::move(*existing), false};

  const std::string vm_dir = config_.dir + "/" + std::string(vm_id);
  const std::string type(type_tag.substr(0, type_tag.find('/')));
  const std::string tag(type_tag.substr(type_tag.find('/') + 1));
  // The VM's count: every <type>/<tag> file under its directory.
  size_t held = 0;
  std::error_code ec;
  namespace fs = std::filesystem;
  // (is_directory sets `ec` for a directory that does not exist: no error here.)
  if (fs::is_directory(vm_dir, ec)) {
    for (fs::directory_iterator t(vm_dir, ec), end; !ec && t != end; t.increment(ec)) {
      if (!t->is_directory(ec)) continue;
      for (fs::directory_iterator f(t->path(), ec); !ec && f != end; f.increment(ec)) {
        if (f->path().filename().string()[0] != '.') ++held;
      }
    }
    if (ec) return ErrnoStatus(ec.value(), vm_dir);
  }
  if (held >= config_.max_per_vm) {
    return Rejected("this VM already holds " + std::to_string(held) +
                    " per-VM resources (vm_resources.max_per_vm)");
  }
  CVM_RETURN_IF_ERROR(MakeDir(vm_dir));
  CVM_RETURN_IF_ERROR(MakeDir(vm_dir + "/" + type));

  Bytes random(config_.value_size);
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    return Internal("RAND_bytes failed");
  }
  SecretBytes value(std::move(random));
  uint8_t nonce[8];
  if (RAND_bytes(nonce, sizeof(nonce)) != 1) return Internal("RAND_bytes failed");
  const std::string dir = vm_dir + "/" + type;
  const std::string final_path = dir + "/" + tag;
  const std::string tmp = dir + "/." + tag + ".tmp." + HexEncode(ByteSpan(nonce, sizeof(nonce)));
  {
    Fd f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)};
    if (f.fd < 0) return ErrnoStatus(errno, "create " + tmp);
    ByteSpan data = value.view();
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(f.fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        Status s = ErrnoStatus(errno, "write " + tmp);
        ::unlink(tmp.c_str());
        return s;
      }
      done += static_cast<size_t>(n);
    }
    if (::fsync(f.fd) != 0) {
      Status s = ErrnoStatus(errno, "fsync " + tmp);
      ::unlink(tmp.c_str());
      return s;
    }
  }
  // link(2) fails with EEXIST when the name exists: the first write wins, even against another
  // process sharing the directory; rename(2) would replace it.
  int rc = ::link(tmp.c_str(), final_path.c_str());
  int link_errno = errno;
  ::unlink(tmp.c_str());
  if (rc != 0 && link_errno == EEXIST) {
    CVM_ASSIGN_OR_RETURN(std::optional<SecretBytes> won, Get(vm_id, type_tag));
    if (!won) return Internal(final_path + " vanished");
    return Value{std::move(*won), false};
  }
  if (rc != 0) return ErrnoStatus(link_errno, "link " + final_path);
  CVM_RETURN_IF_ERROR(SyncDir(dir));
  CVM_RETURN_IF_ERROR(SyncDir(vm_dir));
  return Value{std::move(value), true};
}

}  // namespace cvm::rp
