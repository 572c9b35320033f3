#include "luks/provision.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace cvm::luks {

namespace {

// Whether the first `limit` bytes of `path` (fewer if it is shorter) are all zeros.
Result<bool> LeadingZeros(const std::string& path, size_t limit) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, path);
  std::vector<char> buf(64 << 10);
  size_t seen = 0;
  bool zero = true;
  while (zero && seen < limit) {
    ssize_t n = ::read(fd, buf.data(), std::min(buf.size(), limit - seen));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = ErrnoStatus(errno, "read " + path);
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    zero = std::all_of(buf.begin(), buf.begin() + n, [](char c) { return c == 0; });
    seen += static_cast<size_t>(n);
  }
  ::close(fd);
  return zero;
}

}  // namespace

Result<DeviceState> InspectForProvision(const std::string& path, const std::string& resource,
                                        const HeaderPolicy& policy) {
  DeviceState out;
  auto device = Device::Open(path);
  if (device.ok()) {
    out.description = "a LUKS2 header (UUID " + device->Uuid() + ")";
    for (const auto& t : device->CvmTokens()) {
      if (!t.parsed.ok() || t.parsed->resource != resource) continue;
      if (!CheckDevice(*device, *t.parsed, policy).ok()) continue;
      out.kind = DeviceState::Kind::kProvisioned;
      out.token_id = t.id;
      out.uuid = device->Uuid();
      out.description +=
          " with cvm token " + std::to_string(t.id) + " for resource '" + resource + "'";
      return out;
    }
    out.description += resource.empty() ? "" : " without a cvm token for '" + resource + "'";
    return out;
  }
  if (device.status().code() != Code::kInvalidInput) return device.status();
  CVM_ASSIGN_OR_RETURN(bool zero, LeadingZeros(path, kBlankProbeBytes));
  if (zero) {
    out.kind = DeviceState::Kind::kBlank;
    out.description = "blank";
  } else {
    out.description = "data (its first MiB is not all zeros)";
  }
  return out;
}

Result<BindResult> FormatAndBind(const std::string& path, const SecretBytes& key,
                                 const ProvisionOptions& options, const HeaderPolicy& policy) {
  if (!IsResourceName(options.resource)) {
    return InvalidInput("'" + options.resource +
                        "' is not a resource name ([A-Za-z0-9._-], 1 to 128 characters)");
  }
  CVM_ASSIGN_OR_RETURN(std::string uuid, CanonicalUuid(options.uuid));
  if (options.timeout_seconds < 0 || options.timeout_seconds > kMaxTimeoutSeconds) {
    return InvalidInput("the timeout must be 1 to " + std::to_string(kMaxTimeoutSeconds) + " s");
  }
  if (key.empty()) return InvalidInput("the key is empty");
  CVM_ASSIGN_OR_RETURN(Device device, Device::Format(path, key, options.pbkdf, uuid));
  std::vector<int> slots = device.ActiveKeyslots();
  if (slots.size() != 1)
    return Internal(path + ": a fresh format has " + std::to_string(slots.size()) +
                    " keyslots, not 1");
  BindResult out;
  out.keyslot = slots[0];
  out.token.keyslots = {slots[0]};
  out.token.resource = options.resource;
  out.token.uuid = uuid;
  if (options.timeout_seconds > 0) {
    out.token.timeout_seconds = options.timeout_seconds;
    out.token.timeout_set = true;
  }
  CVM_ASSIGN_OR_RETURN(out.token_id, device.AddToken(TokenJson(out.token)));
  CVM_RETURN_IF_ERROR(CheckDevice(device, out.token, policy).status());
  CVM_RETURN_IF_ERROR(device.TestKey(out.keyslot, key));
  return out;
}

}  // namespace cvm::luks
