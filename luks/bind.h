// Binding a LUKS2 volume to a resource of the agent, and undoing it: what `cvmctl luks bind`,
// `unbind` and `show` run, so that every front door makes the same checks.
#pragma once

#include <string>
#include <vector>

#include "common/file_util.h"
#include "common/status.h"
#include "luks/device.h"
#include "luks/header.h"
#include "luks/token.h"

namespace cvm::luks {

struct BindOptions {
  std::string resource;     // the agent's resource name
  int timeout_seconds = 0;  // 0: the plugin's default (not written into the token)
  PbkdfOptions pbkdf;
};

struct BindResult {
  int keyslot = -1;
  int token_id = -1;
  Token token;
};

// Binds `device` to `options.resource`:
//   1. refuses a resource name the token format does not allow, and a volume that already has a
//      cvm token for that resource (kInvalidInput: unbind first);
//   2. checks every segment (HeaderPolicy: no null cipher, no linear segment; kRejected);
//   3. adds a keyslot opened by `key`, authorised by `existing` (kPermissionDenied when
//      `existing` opens nothing);
//   4. writes the cvm token naming that keyslot, the resource and the volume's UUID;
//   5. checks the result as the plugin will (CheckDevice) and tests that `key` opens the new
//      keyslot; on any failure after step 3 the keyslot and token are removed again.
Result<BindResult> Bind(Device& device, const SecretBytes& existing, const SecretBytes& key,
                        const BindOptions& options, const HeaderPolicy& policy);

// The ciphers of every segment (and the UUID), checked as in Bind step 2: what the agent is told
// when asked for a key before the keyslot exists.
Result<HeaderFacts> SegmentFacts(const Device& device, const HeaderPolicy& policy);

// Removes cvm token `token_id` and, unless `keep_keyslots`, the keyslots it names. Refuses
// (kInvalidInput) to remove the volume's last keyslots: that would make the data unreadable.
Status Unbind(Device& device, int token_id, bool keep_keyslots);

}  // namespace cvm::luks
