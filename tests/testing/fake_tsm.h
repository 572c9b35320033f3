// An in-memory configfs-tsm tree that behaves as Documentation/ABI/testing/configfs-tsm-report
// and drivers/virt/coco/tsm.c describe, for testing report providers without a TEE:
// - mkdir under the root creates an entry; without a provider it fails with ENXIO;
// - `inblob` takes at most 64 bytes and the providers require exactly 64 (EINVAL otherwise);
// - `privlevel` (SEV-SNP only) takes a decimal within [privlevel_floor, 3] (EINVAL otherwise);
// - every write bumps `generation`; reading `outblob`/`auxblob` generates the report lazily and
//   fails with EINVAL before anything was written to inblob;
// - `auxblob` and `privlevel` exist only for the "sev_guest" provider (ENOENT for "tdx_guest");
// - rmdir removes the entry.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "common/tsm.h"

namespace cvm::testing {

struct FakeTsmOutput {
  Bytes outblob;
  Bytes auxblob;
};

class FakeTsmFs final : public TsmFs {
 public:
  // Produces the report for an inblob and privlevel; may return an error status to simulate a
  // failing firmware call (the read then fails with that status).
  using Generator = std::function<Result<FakeTsmOutput>(ByteSpan inblob, uint32_t privlevel)>;

  // `provider`: "sev_guest", "tdx_guest", or "" for a kernel with configfs-tsm but no provider.
  FakeTsmFs(std::string root, std::string provider, Generator generator);

  // Called before every attribute read with the entry path and attribute name; tests use it to
  // simulate a concurrent writer (e.g. by calling BumpGeneration).
  std::function<void(const std::string& entry, const std::string& attr)> before_read;
  void BumpGeneration(const std::string& entry);
  uint32_t privlevel_floor = 0;

  // Observations for assertions.
  size_t live_entries() const { return entries_.size(); }
  int reports_generated() const { return reports_generated_; }

  bool IsDirectory(const std::string& path) override;
  Status MakeDir(const std::string& path) override;
  Status RemoveDir(const std::string& path) override;
  Result<Bytes> ReadAttr(const std::string& path, size_t max_size) override;
  Status WriteAttr(const std::string& path, ByteSpan data) override;

 private:
  struct Entry {
    Bytes inblob;
    uint32_t privlevel = 0;
    uint64_t write_generation = 0;
    uint64_t read_generation = ~uint64_t{0};
    FakeTsmOutput cached;
  };
  // Splits "<root>/<entry>/<attr>"; false when the path is not inside an existing entry.
  bool Split(const std::string& path, std::string* entry, std::string* attr) const;
  Result<Entry*> Lookup(const std::string& path, std::string* entry, std::string* attr);
  Status Generate(Entry& e, const std::string& path);

  std::string root_;
  std::string provider_;
  Generator generator_;
  std::map<std::string, Entry> entries_;
  int reports_generated_ = 0;
};

}  // namespace cvm::testing
