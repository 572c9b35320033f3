#include "common/tsm.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "common/encoding.h"
#include "common/file_util.h"

namespace cvm {
namespace {

class LinuxTsmFs final : public TsmFs {
 public:
  bool IsDirectory(const std::string& path) override {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }
  Status MakeDir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0700) != 0) return ErrnoStatus(errno, "mkdir " + path);
    return Status::Ok();
  }
  Status RemoveDir(const std::string& path) override {
    if (::rmdir(path.c_str()) != 0) return ErrnoStatus(errno, "rmdir " + path);
    return Status::Ok();
  }
  Result<Bytes> ReadAttr(const std::string& path, size_t max_size) override {
    return ReadFile(path, max_size);
  }
  Status WriteAttr(const std::string& path, ByteSpan data) override {
    return WriteAttribute(path, data);
  }
};

std::string Trim(ByteSpan b) {
  std::string s(AsChars(b));
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

TsmFs& RealTsmFs() {
  static LinuxTsmFs fs;
  return fs;
}

TsmReportClient::TsmReportClient(TsmFs& fs, std::string root) : fs_(fs), root_(std::move(root)) {}

bool TsmReportClient::Available() const { return fs_.IsDirectory(root_); }

Result<uint64_t> TsmReportClient::ReadGeneration(const std::string& entry) {
  CVM_ASSIGN_OR_RETURN(Bytes raw, fs_.ReadAttr(entry + "/generation", 64));
  std::string text = Trim(raw);
  uint64_t value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) {
    return InvalidInput("configfs-tsm: generation is not a number: \"" + text + "\"");
  }
  return value;
}

Result<TsmReport> TsmReportClient::TryOnce(const TsmReportRequest& request,
                                           const std::string& entry) {
  TsmReport report;
  CVM_ASSIGN_OR_RETURN(Bytes provider, fs_.ReadAttr(entry + "/provider", 256));
  report.provider = Trim(provider);
  if (!request.expected_provider.empty() && report.provider != request.expected_provider) {
    return Rejected("configfs-tsm: provider is \"" + report.provider + "\", expected \"" +
                    request.expected_provider + "\"");
  }
  CVM_ASSIGN_OR_RETURN(uint64_t expected, ReadGeneration(entry));
  CVM_RETURN_IF_ERROR(fs_.WriteAttr(entry + "/inblob", request.inblob));
  ++expected;
  if (request.privlevel) {
    CVM_RETURN_IF_ERROR(
        fs_.WriteAttr(entry + "/privlevel", AsBytes(std::to_string(*request.privlevel))));
    ++expected;
  }
  auto check = [&](const char* after) -> Status {
    CVM_ASSIGN_OR_RETURN(uint64_t now, ReadGeneration(entry));
    if (now != expected) {
      return Unavailable("configfs-tsm: another writer changed the request while reading " +
                         std::string(after) + " (generation " + std::to_string(now) +
                         ", expected " + std::to_string(expected) + ")");
    }
    return Status::Ok();
  };
  CVM_ASSIGN_OR_RETURN(report.outblob, fs_.ReadAttr(entry + "/outblob", kTsmMaxBlob));
  CVM_RETURN_IF_ERROR(check("outblob"));
  if (report.outblob.empty()) return IoError("configfs-tsm: empty outblob");
  if (request.read_auxblob) {
    auto aux = fs_.ReadAttr(entry + "/auxblob", kTsmMaxBlob);
    // Hosts that supply no certificates leave auxblob empty or absent.
    if (aux.ok()) {
      report.auxblob = std::move(*aux);
    } else if (aux.status().code() != Code::kNotFound) {
      return aux.status();
    }
    CVM_RETURN_IF_ERROR(check("auxblob"));
  }
  report.generation = expected;
  return report;
}

Result<TsmReport> TsmReportClient::GetReport(const TsmReportRequest& request, int attempts) {
  if (!Available()) {
    return NotFound("configfs-tsm: " + root_ +
                    " is not there (kernel without CONFIG_TSM_REPORTS, "
                    "or configfs not mounted)");
  }
  Status last;
  for (int i = 0; i < std::max(attempts, 1); ++i) {
    uint8_t rnd[8];
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) return Internal("RAND_bytes failed");
    std::string entry = root_ + "/cvm-agent-" + std::to_string(::getpid()) + "-" + HexEncode(rnd);
    Status made = fs_.MakeDir(entry);
    if (made.code() == Code::kNotFound) {
      return NotFound("configfs-tsm: no attestation provider is registered (" + made.message() +
                      ")");
    }
    CVM_RETURN_IF_ERROR(made);
    auto report = TryOnce(request, entry);
    Status removed = fs_.RemoveDir(entry);
    if (report.ok() && !removed.ok()) return removed;
    if (report.ok()) return report;
    last = report.status();
    if (last.code() != Code::kUnavailable) return last;
  }
  return last;
}

}  // namespace cvm
