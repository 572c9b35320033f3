#include "common/status.h"

#include <cerrno>
#include <cstring>

namespace cvm {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidInput:
      return "invalid input";
    case Code::kRejected:
      return "rejected";
    case Code::kNotFound:
      return "not found";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kDeadlineExceeded:
      return "deadline exceeded";
    case Code::kPermissionDenied:
      return "permission denied";
    case Code::kIoError:
      return "I/O error";
    case Code::kUnsupported:
      return "unsupported";
    case Code::kInternal:
      return "internal error";
  }
  return "unknown";
}

Status::Status(Code code, std::string message) {
  if (code != Code::kOk) rep_ = std::make_shared<const Rep>(Rep{code, std::move(message), {}});
}

const std::string& Status::message() const {
  static const std::string kEmpty;
  return rep_ ? rep_->message : kEmpty;
}

std::string Status::ToString() const {
  if (!rep_) return "ok";
  return rep_->context + rep_->message;
}

Status Status::WithContext(std::string_view context) const& {
  Status copy = *this;
  return std::move(copy).WithContext(context);
}

Status Status::WithContext(std::string_view context) && {
  if (!rep_ || context.empty()) return std::move(*this);
  std::string joined(context);
  joined += ": ";
  joined += rep_->context;
  rep_ = std::make_shared<const Rep>(Rep{rep_->code, rep_->message, std::move(joined)});
  return std::move(*this);
}

Status InvalidInput(std::string m) { return Status(Code::kInvalidInput, std::move(m)); }
Status Rejected(std::string m) { return Status(Code::kRejected, std::move(m)); }
Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
Status Unavailable(std::string m) { return Status(Code::kUnavailable, std::move(m)); }
Status DeadlineExceeded(std::string m) { return Status(Code::kDeadlineExceeded, std::move(m)); }
Status PermissionDenied(std::string m) { return Status(Code::kPermissionDenied, std::move(m)); }
Status IoError(std::string m) { return Status(Code::kIoError, std::move(m)); }
Status Unsupported(std::string m) { return Status(Code::kUnsupported, std::move(m)); }
Status Internal(std::string m) { return Status(Code::kInternal, std::move(m)); }

Status ErrnoStatus(int err, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENODEV:
    case ENXIO:
      return NotFound(std::move(message));
    case EACCES:
    case EPERM:
      return PermissionDenied(std::move(message));
    case EAGAIN:
    case EBUSY:
      return Unavailable(std::move(message));
    case ETIMEDOUT:
      return DeadlineExceeded(std::move(message));
    default:
      return IoError(std::move(message));
  }
}

}  // namespace cvm
