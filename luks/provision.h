// First boot of a blank data disk: what `cvmctl luks provision` runs (docs/disk-encryption.md
// "First boot: provisioning"). The key comes from the agent, which got it from the relying
// party's per-VM store (agent POST /v1/luks/provision, then POST /v1/luks/key); this file only
// decides whether the device may be formatted, and formats and binds it.
#pragma once

#include <string>

#include "common/file_util.h"
#include "common/status.h"
#include "luks/bind.h"
#include "luks/device.h"
#include "luks/header.h"

namespace cvm::luks {

// How many leading bytes must read as zeros for a device to count as blank: 1 MiB covers the
// signatures of every common format (LUKS, ext4, XFS, btrfs at 64 KiB, LVM, swap, partition
// tables), and a new cloud disk or a sparse image file reads as zeros there.
inline constexpr size_t kBlankProbeBytes = 1 << 20;

struct DeviceState {
  enum class Kind {
    kBlank,        // the first kBlankProbeBytes (or the whole device, if smaller) are zeros
    kProvisioned,  // LUKS2 with a cvm token for the resource whose header checks pass
    kOther,        // anything else: data, another format, LUKS without our token
  };
  Kind kind = Kind::kOther;
  std::string description;  // for messages: "blank", "LUKS2 (UUID ...), token 0 for ..."
  int token_id = -1;        // kProvisioned
  std::string uuid;         // kProvisioned: the header's UUID
};

// Looks at `path` for provisioning `resource` (no write). kNotFound / kPermissionDenied when it
// cannot be read.
Result<DeviceState> InspectForProvision(const std::string& path, const std::string& resource,
                                        const HeaderPolicy& policy);

struct ProvisionOptions {
  std::string resource;     // the agent's (per-VM) resource name
  std::string uuid;         // the UUID the agent's configuration names for the volume
  int timeout_seconds = 0;  // 0: the plugin's default (not written into the token)
  PbkdfOptions pbkdf;
};

// Formats `path` as LUKS2 with UUID options.uuid and one keyslot opened by `key`, writes the cvm
// token naming that keyslot, the resource and the UUID, and checks the result as the plugin will
// (CheckDevice) and that `key` opens it. Destroys what the device held: the caller decides with
// InspectForProvision whether it may. kInvalidInput for a bad resource name, UUID or timeout.
Result<BindResult> FormatAndBind(const std::string& path, const SecretBytes& key,
                                 const ProvisionOptions& options, const HeaderPolicy& policy);

}  // namespace cvm::luks
