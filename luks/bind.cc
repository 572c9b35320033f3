#include "luks/bind.h"

#include <algorithm>

namespace cvm::luks {

Result<HeaderFacts> SegmentFacts(const Device& device, const HeaderPolicy& policy) {
  CVM_ASSIGN_OR_RETURN(std::string meta, device.MetadataJson());
  return CheckHeaderKeyslots(meta, device.Uuid(), {}, policy);
}

Result<BindResult> Bind(Device& device, const SecretBytes& existing, const SecretBytes& key,
                        const BindOptions& options, const HeaderPolicy& policy) {
  if (!IsResourceName(options.resource)) {
    return InvalidInput("'" + options.resource +
                        "' is not a resource name ([A-Za-z0-9._-], 1 to 128 characters)");
  }
  if (options.timeout_seconds < 0 || options.timeout_seconds > kMaxTimeoutSeconds) {
    return InvalidInput("the timeout must be 1 to " + std::to_string(kMaxTimeoutSeconds) + " s");
  }
  if (key.empty()) return InvalidInput("the key to bind is empty");
  for (const auto& t : device.CvmTokens()) {
    if (t.parsed.ok() && t.parsed->resource == options.resource) {
      return InvalidInput(device.path() + " is already bound to resource '" + options.resource +
                          "' (token " + std::to_string(t.id) + "): unbind it first");
    }
  }
  CVM_ASSIGN_OR_RETURN(HeaderFacts facts, SegmentFacts(device, policy));

  CVM_ASSIGN_OR_RETURN(int keyslot, device.AddKeyslot(existing, key, options.pbkdf));
  BindResult out;
  out.keyslot = keyslot;
  out.token.keyslots = {keyslot};
  out.token.resource = options.resource;
  out.token.uuid = facts.uuid;
  if (options.timeout_seconds > 0) {
    out.token.timeout_seconds = options.timeout_seconds;
    out.token.timeout_set = true;
  }
  auto undo = [&](Status s) {
    if (out.token_id >= 0) (void)device.RemoveToken(out.token_id);
    (void)device.DestroyKeyslot(keyslot);
    return s.WithContext("bind (undone)");
  };
  auto token_id = device.AddToken(TokenJson(out.token));
  if (!token_id.ok()) return undo(token_id.status());
  out.token_id = *token_id;
  auto check = CheckDevice(device, out.token, policy);
  if (!check.ok()) return undo(check.status());
  Status opens = device.TestKey(keyslot, key);
  if (!opens.ok()) return undo(opens);
  return out;
}

Status Unbind(Device& device, int token_id, bool keep_keyslots) {
  CVM_ASSIGN_OR_RETURN(std::string json, device.TokenJson(token_id));
  auto token = ParseToken(json);
  std::vector<int> slots;
  if (token.ok()) slots = token->keyslots;
  if (!token.ok() && !keep_keyslots) {
    return token.status().WithContext("token " + std::to_string(token_id) +
                                      " (remove only the token with --keep-keyslots)");
  }
  if (!keep_keyslots) {
    std::vector<int> active = device.ActiveKeyslots();
    bool other = std::any_of(active.begin(), active.end(), [&](int k) {
      return std::find(slots.begin(), slots.end(), k) == slots.end();
    });
    if (!other) {
      return InvalidInput(device.path() + ": keyslots of token " + std::to_string(token_id) +
                          " are the volume's last: removing them would make its data "
                          "unreadable (add another key first, or use --keep-keyslots)");
    }
  }
  CVM_RETURN_IF_ERROR(device.RemoveToken(token_id));
  if (!keep_keyslots) {
    const std::vector<int> active = device.ActiveKeyslots();
    for (int k : slots) {
      if (std::find(active.begin(), active.end(), k) == active.end()) continue;
      CVM_RETURN_IF_ERROR(device.DestroyKeyslot(k));
    }
  }
  return Status::Ok();
}

}  // namespace cvm::luks
