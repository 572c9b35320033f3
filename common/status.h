// Status and Result<T>: the error type of every public API in cvm-agent.
//
// A Status is cheap on success (no allocation) and carries, on failure, a code that callers branch
// on, a message that names the problem, and a chain of context ("snp report: measurement: ...")
// added by each layer it passes through. No exception crosses a module's public API: functions that
// can fail return Status or Result<T>.
#pragma once

#include <cassert>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace cvm {

enum class Code {
  kOk = 0,
  kInvalidInput,      // Malformed or unusable input: bad bytes, truncated file, bad option.
  kRejected,          // Well-formed evidence that failed verification or policy.
  kNotFound,          // A file, device, NV index or key that is not there.
  kUnavailable,       // A device or service that exists but cannot answer now.
  kDeadlineExceeded,  // Gave up waiting.
  kPermissionDenied,  // The OS refused access.
  kIoError,           // A system call failed for another reason.
  kUnsupported,       // Valid, but a version or feature this build does not handle.
  kInternal,          // A bug or a library failure that should not happen.
};

// Returns the stable lower-case name of a code, e.g. "invalid input".
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  // An OK status.
  Status() = default;
  Status(Code code, std::string message);

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  Code code() const { return rep_ ? rep_->code : Code::kOk; }
  // The innermost message, without context. Empty when ok().
  const std::string& message() const;
  // "context: context: message", outermost context first. "ok" when ok().
  std::string ToString() const;

  // Returns a copy with `context` prepended (no-op when ok()).
  Status WithContext(std::string_view context) const&;
  Status WithContext(std::string_view context) &&;

 private:
  struct Rep {
    Code code;
    std::string message;
    std::string context;  // "outer: inner: " (each entry followed by ": ")
  };
  std::shared_ptr<const Rep> rep_;
};

// Named constructors.
Status InvalidInput(std::string message);
Status Rejected(std::string message);
Status NotFound(std::string message);
Status Unavailable(std::string message);
Status DeadlineExceeded(std::string message);
Status PermissionDenied(std::string message);
Status IoError(std::string message);
Status Unsupported(std::string message);
Status Internal(std::string message);
// Maps an errno value to a status: ENOENT -> kNotFound, EACCES/EPERM -> kPermissionDenied,
// EAGAIN/EBUSY -> kUnavailable, ETIMEDOUT -> kDeadlineExceeded, anything else -> kIoError.
// The message is "`what`: strerror(err)".
Status ErrnoStatus(int err, std::string_view what);

// Either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  // REQUIRES: !status.ok()
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok());
    if (std::get<Status>(v_).ok()) v_ = Internal("Result constructed from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // The error; an OK status when ok().
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  // REQUIRES: ok()
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // Returns a copy with context prepended to the error (no-op when ok()).
  Result WithContext(std::string_view context) && {
    if (ok()) return std::move(*this);
    return std::get<Status>(v_).WithContext(context);
  }

 private:
  std::variant<T, Status> v_;
};

}  // namespace cvm

#define CVM_CONCAT_INNER_(a, b) a##b
#define CVM_CONCAT_(a, b) CVM_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` (a Status) is not OK.
#define CVM_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::cvm::Status cvm_status_ = (expr);        \
    if (!cvm_status_.ok()) return cvm_status_; \
  } while (false)

// `lhs = value of expr` where expr is a Result<T>; returns its status from the enclosing function
// on failure. `lhs` may declare a variable: CVM_ASSIGN_OR_RETURN(auto x, Parse(bytes));
#define CVM_ASSIGN_OR_RETURN(lhs, expr) \
  CVM_ASSIGN_OR_RETURN_IMPL_(CVM_CONCAT_(cvm_result_, __LINE__), lhs, expr)
#define CVM_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()
