// Per-VM resources: values the relying party creates for one VM at its first request and keeps
// for it, under an id derived from that VM's attested evidence (evidence/kbs.h, "vm-resource";
// docs/relying-party.md "Per-VM resources"). A disk key provisioned at a VM's first boot is the
// use: the image names one path, every VM gets its own key, and only the VM whose evidence gives
// the same id gets it back.
//
// The VM id is hex(SHA-256(JCS({"tee": <kind>, <field>: hex(<claim>), ...}))) over the identity
// fields the configuration names, from the appraised claims (the caller never names an id).
// Values live in files <dir>/<vm id>/<type>/<tag> (mode 0600, directories 0700), written once:
// a new value goes to a temporary file that is fsync'ed and then hard-linked to its name, which
// fails if the name exists, so the first write wins even across processes that share the
// directory, and nothing is ever overwritten or half-written. Values are secrets: nothing here
// logs them.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_util.h"
#include "common/status.h"
#include "evidence/bundle.h"

namespace cvm::rp {

// The claims a VM id is derived from.
enum class VmIdentityField {
  kMeasurement,  // SNP MEASUREMENT / TDX MRTD: the launched image
  kHostData,     // SNP HOST_DATA / TDX MRCONFIGID: what the launcher set, e.g. init-data with a
                 // per-VM instance id
  kChipId,       // SNP CHIP_ID: the physical processor (a VM moved to another host changes id)
};
// "measurement", "host_data", "chip_id".
const char* VmIdentityFieldName(VmIdentityField field);
Result<VmIdentityField> ParseVmIdentityField(std::string_view name);

struct VmResourceConfig {
  std::string dir;  // where values are kept (created 0700 when absent); required
  // The fields the VM id is made of (the TEE kind is always part of it). Non-empty.
  std::vector<VmIdentityField> identity = {VmIdentityField::kMeasurement,
                                           VmIdentityField::kHostData};
  size_t value_size = 32;  // bytes of a created value (16..4096)
  size_t max_per_vm = 16;  // values one VM may create
};

// The VM id of `claims` (64 lower-case hex). kRejected when a field is not in this TEE's
// evidence (chip_id of TDX evidence, for one) or is empty.
Result<std::string> DeriveVmId(const evidence::Claims& claims,
                               const std::vector<VmIdentityField>& identity);

class VmResourceStore {
 public:
  // Creates `config.dir` (0700) when absent. kInvalidInput for a bad configuration.
  static Result<std::unique_ptr<VmResourceStore>> Open(VmResourceConfig config);
  VmResourceStore(const VmResourceStore&) = delete;
  VmResourceStore& operator=(const VmResourceStore&) = delete;

  const VmResourceConfig& config() const { return config_; }

  // The value of `type_tag` ("<type>/<tag>", checked) for `vm_id`; nullopt when there is none.
  Result<std::optional<SecretBytes>> Get(std::string_view vm_id, std::string_view type_tag) const;

  struct Value {
    SecretBytes value;
    bool created = false;  // false: it existed (possibly written by a concurrent request)
  };
  // The stored value, or a new one of config().value_size random bytes (RAND_bytes) when there
  // is none. kRejected when the VM already holds max_per_vm values. Thread-safe.
  Result<Value> GetOrCreate(std::string_view vm_id, std::string_view type_tag);

 private:
  explicit VmResourceStore(VmResourceConfig config) : config_(std::move(config)) {}
  Result<std::string> PathOf(std::string_view vm_id, std::string_view type_tag) const;

  const VmResourceConfig config_;
  std::mutex mu_;  // serialises creation in this process (link() does across processes)
};

}  // namespace cvm::rp
