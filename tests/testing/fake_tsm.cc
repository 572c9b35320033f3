#include "tests/testing/fake_tsm.h"

#include <cerrno>

namespace cvm::testing {

FakeTsmFs::FakeTsmFs(std::string root, std::string provider, Generator generator)
    : root_(std::move(root)), provider_(std::move(provider)), generator_(std::move(generator)) {}

bool FakeTsmFs::IsDirectory(const std::string& path) {
  if (path == root_) return true;
  return path.rfind(root_ + "/", 0) == 0 && entries_.count(path.substr(root_.size() + 1)) == 1;
}

Status FakeTsmFs::MakeDir(const std::string& path) {
  if (path.rfind(root_ + "/", 0) != 0) return ErrnoStatus(ENOENT, "mkdir " + path);
  std::string name = path.substr(root_.size() + 1);
  if (name.empty() || name.find('/') != std::string::npos)
    return ErrnoStatus(ENOENT, "mkdir " + path);
  if (provider_.empty()) return ErrnoStatus(ENXIO, "mkdir " + path);
  if (entries_.count(name)) return ErrnoStatus(EEXIST, "mkdir " + path);
  entries_[name] = Entry{};
  return Status::Ok();
}

Status FakeTsmFs::RemoveDir(const std::string& path) {
  if (path.rfind(root_ + "/", 0) != 0 || entries_.erase(path.substr(root_.size() + 1)) == 0) {
    return ErrnoStatus(ENOENT, "rmdir " + path);
  }
  return Status::Ok();
}

void FakeTsmFs::BumpGeneration(const std::string& entry) {
  auto it = entries_.find(entry.substr(entry.rfind('/') + 1));
  if (it != entries_.end()) ++it->second.write_generation;
}

bool FakeTsmFs::Split(const std::string& path, std::string* entry, std::string* attr) const {
  if (path.rfind(root_ + "/", 0) != 0) return false;
  std::string rest = path.substr(root_.size() + 1);
  size_t slash = rest.find('/');
  if (slash == std::string::npos) return false;
  *entry = rest.substr(0, slash);
  *attr = rest.substr(slash + 1);
  return entries_.count(*entry) == 1;
}

Result<FakeTsmFs::Entry*> FakeTsmFs::Lookup(const std::string& path, std::string* entry,
                                            std::string* attr) {
  if (!Split(path, entry, attr)) return ErrnoStatus(ENOENT, "open " + path);
  bool snp = provider_ == "sev_guest";
  static const char* kCommon[] = {"inblob", "outblob", "generation", "provider"};
  bool known = false;
  for (const char* a : kCommon) known = known || *attr == a;
  if (snp)
    known = known || *attr == "auxblob" || *attr == "privlevel" || *attr == "privlevel_floor";
  if (!known) return ErrnoStatus(ENOENT, "open " + path);
  return &entries_[*entry];
}

Status FakeTsmFs::Generate(Entry& e, const std::string& path) {
  if (e.inblob.empty()) return ErrnoStatus(EINVAL, "read " + path);
  if (e.read_generation == e.write_generation) return Status::Ok();
  auto out = generator_(e.inblob, e.privlevel);
  if (!out.ok()) return out.status();
  e.cached = std::move(*out);
  e.read_generation = e.write_generation;
  ++reports_generated_;
  return Status::Ok();
}

Result<Bytes> FakeTsmFs::ReadAttr(const std::string& path, size_t max_size) {
  std::string entry, attr;
  CVM_ASSIGN_OR_RETURN(Entry * e, Lookup(path, &entry, &attr));
  if (before_read) before_read(root_ + "/" + entry, attr);
  Bytes out;
  if (attr == "generation") {
    std::string s = std::to_string(e->write_generation) + "\n";
    out.assign(s.begin(), s.end());
  } else if (attr == "provider") {
    std::string s = provider_ + "\n";
    out.assign(s.begin(), s.end());
  } else if (attr == "privlevel_floor") {
    std::string s = std::to_string(privlevel_floor) + "\n";
    out.assign(s.begin(), s.end());
  } else if (attr == "outblob" || attr == "auxblob") {
    CVM_RETURN_IF_ERROR(Generate(*e, path));
    out = attr == "outblob" ? e->cached.outblob : e->cached.auxblob;
  } else {
    return ErrnoStatus(EACCES, "read " + path);  // write-only attribute
  }
  if (out.size() > max_size)
    return InvalidInput(path + ": larger than " + std::to_string(max_size) + " bytes");
  return out;
}

Status FakeTsmFs::WriteAttr(const std::string& path, ByteSpan data) {
  std::string entry, attr;
  CVM_ASSIGN_OR_RETURN(Entry * e, Lookup(path, &entry, &attr));
  if (attr == "inblob") {
    // TSM_INBLOB_MAX is 64 and both sev_guest and tdx_guest need exactly 64 bytes.
    if (data.size() != kTsmInblobSize) return ErrnoStatus(EINVAL, "write " + path);
    e->inblob.assign(data.begin(), data.end());
  } else if (attr == "privlevel") {
    std::string text(AsChars(data));
    while (!text.empty() && text.back() == '\n') text.pop_back();
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos ||
        text.size() > 3) {
      return ErrnoStatus(EINVAL, "write " + path);
    }
    uint32_t level = static_cast<uint32_t>(std::stoul(text));
    if (level < privlevel_floor || level > 3) return ErrnoStatus(EINVAL, "write " + path);
    e->privlevel = level;
  } else {
    return ErrnoStatus(EACCES, "write " + path);  // read-only attribute
  }
  ++e->write_generation;
  return Status::Ok();
}

}  // namespace cvm::testing
