// The resources the relying party can release: files under a directory tree
// <dir>/<repo>/<type>/<tag> and inline values from the configuration, held in memory as
// SecretBytes (wiped when dropped). A store is immutable once loaded; a reload builds a new one.
// Values are secrets: nothing here logs them.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/file_util.h"
#include "common/status.h"

namespace cvm::rp {

// Trustee's rule for a resource path segment: ^[a-zA-Z0-9_\-]+[a-zA-Z0-9_\-\.]*$
// (plugins/implementations/resource/backend.rs), so "..", ".x" and "%2e" are all refused.
bool ValidResourceSegment(std::string_view segment);
// (A whole path "repo/type/tag" is checked with evidence::ValidateResourcePath.)

struct ResourceLimits {
  size_t max_resource_size = 1 << 20;
  size_t max_resources = 10000;
};

class ResourceStore {
 public:
  ResourceStore() = default;
  ResourceStore(const ResourceStore&) = delete;
  ResourceStore& operator=(const ResourceStore&) = delete;

  // Reads every regular file exactly three levels below `dir` whose path segments are valid
  // (anything else, including symbolic links, is skipped with a warning). `dir` empty: none.
  Status LoadDirectory(const std::string& dir, const ResourceLimits& limits);
  // Adds an inline value; kInvalidInput for an invalid path or one already present.
  Status Add(const std::string& path, SecretBytes value);

  // nullptr when absent. The pointer stays valid as long as the caller holds it.
  std::shared_ptr<const SecretBytes> Find(std::string_view path) const;
  size_t size() const { return items_.size(); }

 private:
  std::map<std::string, std::shared_ptr<const SecretBytes>, std::less<>> items_;
};

}  // namespace cvm::rp
