#include "luks/device.h"

#include <libcryptsetup.h>

#include <cerrno>
#include <cstring>

namespace cvm::luks {

Status Device::Err(int rc, const std::string& what) const {
  int err = rc < 0 ? -rc : EINVAL;
  std::string msg = path_ + ": " + what + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
      return NotFound(msg);
    case EPERM:
    case EACCES:
      return PermissionDenied(msg);
    case EINVAL:
      return InvalidInput(msg);
    case EBUSY:
    case EAGAIN:
      return Unavailable(msg);
    default:
      return IoError(msg);
  }
}

Result<Device> Device::Open(const std::string& path) {
  crypt_device* cd = nullptr;
  Device d(nullptr, true, path);
  int rc = crypt_init(&cd, path.c_str());
  if (rc < 0) return d.Err(rc, "cannot open");
  d.cd_ = cd;
  rc = crypt_load(cd, CRYPT_LUKS2, nullptr);
  if (rc < 0) {
    if (rc == -EINVAL) return InvalidInput(path + ": not a LUKS2 volume");
    return d.Err(rc, "cannot read the LUKS2 header");
  }
  return d;
}

namespace {

Status ApplyPbkdf(crypt_device* cd, const PbkdfOptions& pbkdf) {
  if (pbkdf.pbkdf2_iterations == 0) return Status::Ok();
  crypt_pbkdf_type p{};
  p.type = CRYPT_KDF_PBKDF2;
  p.hash = "sha256";
  p.iterations = pbkdf.pbkdf2_iterations;
  p.flags = CRYPT_PBKDF_NO_BENCHMARK;
  if (crypt_set_pbkdf_type(cd, &p) < 0) return InvalidInput("PBKDF2 parameters refused");
  return Status::Ok();
}

}  // namespace

Result<Device> Device::Format(const std::string& path, const SecretBytes& key,
                              const PbkdfOptions& pbkdf, const std::string& uuid) {
  crypt_device* cd = nullptr;
  Device d(nullptr, true, path);
  int rc = crypt_init(&cd, path.c_str());
  if (rc < 0) return d.Err(rc, "cannot open");
  d.cd_ = cd;
  CVM_RETURN_IF_ERROR(ApplyPbkdf(cd, pbkdf));
  crypt_params_luks2 params{};
  params.sector_size = 512;
  rc = crypt_format(cd, CRYPT_LUKS2, "aes", "xts-plain64", uuid.empty() ? nullptr : uuid.c_str(),
                    nullptr, 64, &params);
  if (rc < 0) return d.Err(rc, "cannot format as LUKS2");
  rc = crypt_keyslot_add_by_volume_key(
      cd, CRYPT_ANY_SLOT, nullptr, 0, reinterpret_cast<const char*>(key.view().data()), key.size());
  if (rc < 0) return d.Err(rc, "cannot add the first keyslot");
  return d;
}

Device Device::Borrow(crypt_device* cd) {
  return Device(cd, false, crypt_get_device_name(cd) ? crypt_get_device_name(cd) : "volume");
}

Device::~Device() {
  if (cd_ != nullptr && owned_) crypt_free(cd_);
}

std::string Device::Uuid() const {
  const char* u = crypt_get_uuid(cd_);
  return u != nullptr ? std::string(u) : std::string();
}

Result<std::string> Device::MetadataJson() const {
  const char* json = nullptr;
  int rc = crypt_dump_json(cd_, &json, 0);
  if (rc < 0 || json == nullptr) return Err(rc, "cannot read the LUKS2 metadata");
  return std::string(json);
}

Result<std::string> Device::TokenJson(int id) const {
  const char* json = nullptr;
  int rc = crypt_token_json_get(cd_, id, &json);
  if (rc < 0 || json == nullptr) return Err(rc, "cannot read token " + std::to_string(id));
  return std::string(json);
}

std::vector<CvmTokenEntry> Device::CvmTokens() const {
  std::vector<CvmTokenEntry> out;
  int max = crypt_token_max(CRYPT_LUKS2);
  for (int id = 0; id < max; ++id) {
    const char* type = nullptr;
    crypt_token_info info = crypt_token_status(cd_, id, &type);
    if (info == CRYPT_TOKEN_INACTIVE || info == CRYPT_TOKEN_INVALID || type == nullptr ||
        std::strcmp(type, kTokenType) != 0) {
      continue;
    }
    CvmTokenEntry e;
    e.id = id;
    auto json = TokenJson(id);
    if (!json.ok()) {
      e.parsed = json.status();
    } else {
      e.json = *json;
      e.parsed = ParseToken(e.json);
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<int> Device::AddKeyslot(const SecretBytes& existing, const SecretBytes& new_key,
                               const PbkdfOptions& pbkdf) {
  CVM_RETURN_IF_ERROR(ApplyPbkdf(cd_, pbkdf));
  int rc = crypt_keyslot_add_by_passphrase(
      cd_, CRYPT_ANY_SLOT, reinterpret_cast<const char*>(existing.view().data()), existing.size(),
      reinterpret_cast<const char*>(new_key.view().data()), new_key.size());
  if (rc == -EPERM) return PermissionDenied(path_ + ": the existing key opens no keyslot");
  if (rc < 0) return Err(rc, "cannot add a keyslot");
  return rc;
}

Status Device::TestKey(int keyslot, const SecretBytes& key) const {
  int rc = crypt_activate_by_passphrase(
      cd_, nullptr, keyslot, reinterpret_cast<const char*>(key.view().data()), key.size(), 0);
  if (rc == -EPERM) {
    return Rejected(path_ + ": the key does not open keyslot " + std::to_string(keyslot));
  }
  if (rc < 0) return Err(rc, "cannot test keyslot " + std::to_string(keyslot));
  return Status::Ok();
}

Status Device::DestroyKeyslot(int keyslot) {
  int rc = crypt_keyslot_destroy(cd_, keyslot);
  if (rc < 0) return Err(rc, "cannot remove keyslot " + std::to_string(keyslot));
  return Status::Ok();
}

std::vector<int> Device::ActiveKeyslots() const {
  std::vector<int> out;
  int max = crypt_keyslot_max(CRYPT_LUKS2);
  for (int k = 0; k < max; ++k) {
    crypt_keyslot_info info = crypt_keyslot_status(cd_, k);
    if (info == CRYPT_SLOT_ACTIVE || info == CRYPT_SLOT_ACTIVE_LAST || info == CRYPT_SLOT_UNBOUND) {
      out.push_back(k);
    }
  }
  return out;
}

Result<int> Device::AddToken(const std::string& json) {
  int rc = crypt_token_json_set(cd_, CRYPT_ANY_TOKEN, json.c_str());
  if (rc < 0) return Err(rc, "cannot write the token");
  return rc;
}

Status Device::RemoveToken(int id) {
  int rc = crypt_token_json_set(cd_, id, nullptr);
  if (rc < 0) return Err(rc, "cannot remove token " + std::to_string(id));
  return Status::Ok();
}

std::string ExternalTokenDir() {
  const char* dir = crypt_token_external_path();
  return dir != nullptr ? std::string(dir) : std::string();
}

Result<HeaderFacts> CheckDevice(const Device& device, const Token& token,
                                const HeaderPolicy& policy) {
  CVM_ASSIGN_OR_RETURN(std::string meta, device.MetadataJson());
  return CheckHeader(meta, device.Uuid(), token, policy);
}

}  // namespace cvm::luks
