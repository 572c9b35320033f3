#include "rp/resources.h"

#include <filesystem>
#include <system_error>

#include "common/log.h"
#include "evidence/kbs.h"

namespace cvm::rp {
namespace {

bool FirstChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

}  // namespace

bool ValidResourceSegment(std::string_view s) {
  if (s.empty() || !FirstChar(s[0])) return false;
  for (char c : s) {
    if (!FirstChar(c) && c != '.') return false;
  }
  return true;
}

Status ResourceStore::Add(const std::string& path, SecretBytes value) {
  CVM_RETURN_IF_ERROR(evidence::ValidateResourcePath(path));
  if (items_.count(path) != 0) return InvalidInput("resource '" + path + "' is defined twice");
  items_.emplace(path, std::make_shared<const SecretBytes>(std::move(value)));
  return Status::Ok();
}

Status ResourceStore::LoadDirectory(const std::string& dir, const ResourceLimits& limits) {
  if (dir.empty()) return Status::Ok();
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return NotFound("resource directory " + dir + " is not there");
  auto children = [&](const fs::path& p) {
    std::vector<fs::directory_entry> out;
    for (fs::directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) {
      out.push_back(*it);
    }
    return out;
  };
  for (const auto& repo : children(dir)) {
    for (const auto& type : children(repo.path())) {
      for (const auto& tag : children(type.path())) {
        std::string rel = repo.path().filename().string() + "/" + type.path().filename().string() +
                          "/" + tag.path().filename().string();
        // symlink_status: a link is skipped, never followed out of the tree.
        if (!repo.is_directory() || repo.is_symlink() || !type.is_directory() ||
            type.is_symlink() || tag.symlink_status().type() != fs::file_type::regular ||
            !evidence::ValidateResourcePath(rel).ok()) {
          log::Warning("resource directory: skipping " + tag.path().string() +
                       " (not a regular file at a valid repo/type/tag path)");
          continue;
        }
        if (items_.size() >= limits.max_resources) {
          return InvalidInput("resource directory " + dir + ": more than " +
                              std::to_string(limits.max_resources) + " resources");
        }
        auto data = ReadFile(tag.path().string(), limits.max_resource_size);
        if (!data.ok()) return data.status().WithContext("resource directory");
        CVM_RETURN_IF_ERROR(Add(rel, SecretBytes(std::move(data).value())));
      }
    }
  }
  if (ec) return ErrnoStatus(ec.value(), "resource directory " + dir);
  return Status::Ok();
}

std::shared_ptr<const SecretBytes> ResourceStore::Find(std::string_view path) const {
  auto it = items_.find(path);
  return it == items_.end() ? nullptr : it->second;
}

}  // namespace cvm::rp
