#include "common/status.h"

#include <catch2/catch.hpp>

namespace cvm {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidInput(std::to_string(x) + " is odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  CVM_ASSIGN_OR_RETURN(int h, Half(x));
  CVM_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST_CASE("An OK status has no message and prints as ok") {
  Status s;
  CHECK(s.ok());
  CHECK(s.code() == Code::kOk);
  CHECK(s.message().empty());
  CHECK(s.ToString() == "ok");
}

TEST_CASE("Context is prepended outermost first") {
  Status s = InvalidInput("bad byte").WithContext("header").WithContext("report");
  CHECK(s.code() == Code::kInvalidInput);
  CHECK(s.message() == "bad byte");
  CHECK(s.ToString() == "report: header: bad byte");
}

TEST_CASE("Adding context to a copy leaves the original unchanged") {
  Status a = Rejected("signature does not verify");
  Status b = a.WithContext("vcek");
  CHECK(a.ToString() == "signature does not verify");
  CHECK(b.ToString() == "vcek: signature does not verify");
}

TEST_CASE("WithContext on OK stays OK") { CHECK(Status().WithContext("x").ok()); }

TEST_CASE("Result carries a value or an error, and the macros propagate errors") {
  auto ok = Quarter(8);
  REQUIRE(ok.ok());
  CHECK(*ok == 2);
  auto err = Quarter(6);
  REQUIRE_FALSE(err.ok());
  CHECK(err.status().message() == "3 is odd");
  CHECK(err.status().code() == Code::kInvalidInput);
}

TEST_CASE("Result::WithContext adds context to errors only") {
  CHECK(Half(3).WithContext("input").status().ToString() == "input: 3 is odd");
  CHECK(*Half(4).WithContext("input") == 2);
}

TEST_CASE("ErrnoStatus maps errno values to codes") {
  CHECK(ErrnoStatus(ENOENT, "open x").code() == Code::kNotFound);
  CHECK(ErrnoStatus(EACCES, "open x").code() == Code::kPermissionDenied);
  CHECK(ErrnoStatus(EBUSY, "ioctl").code() == Code::kUnavailable);
  CHECK(ErrnoStatus(ETIMEDOUT, "ioctl").code() == Code::kDeadlineExceeded);
  CHECK(ErrnoStatus(EIO, "ioctl").code() == Code::kIoError);
  CHECK(ErrnoStatus(ENOENT, "open x").message() == "open x: No such file or directory");
}

TEST_CASE("Every code has a name") {
  CHECK(CodeName(Code::kRejected) == "rejected");
  CHECK(CodeName(Code::kInvalidInput) == "invalid input");
}

}  // namespace
}  // namespace cvm
