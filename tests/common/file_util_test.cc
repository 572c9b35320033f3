#include "common/file_util.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "tests/testing/testing.h"

namespace cvm {
namespace {

TEST_CASE("WriteFileAtomic writes the whole file with the requested mode") {
  testing::TempDir dir;
  std::string path = dir.File("secret");
  REQUIRE(WriteFileAtomic(path, std::string_view("key material"), 0600).ok());
  CHECK(*ReadTextFile(path) == "key material");
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // Replacing keeps readers from ever seeing a partial file: the new content replaces the old.
  REQUIRE(WriteFileAtomic(path, std::string_view("new"), 0600).ok());
  CHECK(*ReadTextFile(path) == "new");
}

TEST_CASE("WriteFileAtomic into a missing directory fails and leaves nothing behind") {
  testing::TempDir dir;
  Status s = WriteFileAtomic(dir.File("missing/x"), std::string_view("x"));
  CHECK(s.code() == Code::kNotFound);
}

TEST_CASE("ReadFile refuses files over the limit and names missing files") {
  testing::TempDir dir;
  REQUIRE(WriteFileAtomic(dir.File("big"), Bytes(100, 1)).ok());
  auto r = ReadFile(dir.File("big"), 10);
  CHECK(r.status().code() == Code::kInvalidInput);
  CHECK(r.status().message().find("larger than 10 bytes") != std::string::npos);
  auto missing = ReadFile(dir.File("nope"));
  CHECK(missing.status().code() == Code::kNotFound);
  CHECK(missing.status().message().find("nope") != std::string::npos);
}

TEST_CASE("MakeDirs creates parents and is idempotent") {
  testing::TempDir dir;
  REQUIRE(MakeDirs(dir.File("a/b/c"), 0700).ok());
  REQUIRE(MakeDirs(dir.File("a/b/c"), 0700).ok());
  REQUIRE(WriteFileAtomic(dir.File("f"), std::string_view("x")).ok());
  CHECK_FALSE(MakeDirs(dir.File("f")).ok());
}

TEST_CASE("SecretBytes is wiped on Clear and moves leave the source empty") {
  SecretBytes a(Bytes{1, 2, 3});
  SecretBytes b = std::move(a);
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move): testing the moved-from state.
  CHECK(b.size() == 3);
  b.Clear();
  CHECK(b.empty());
}

}  // namespace
}  // namespace cvm

namespace cvm {
namespace {

TEST_CASE("WriteAttribute writes in place and fails on a missing attribute") {
  testing::TempDir dir;
  std::string attr = dir.File("inblob");
  REQUIRE(WriteFileAtomic(attr, std::string_view("old value")).ok());
  REQUIRE(WriteAttribute(attr, AsBytes("new")).ok());
  CHECK(ReadTextFile(attr)->substr(0, 3) == "new");
  CHECK(WriteAttribute(dir.File("missing"), AsBytes("x")).code() == Code::kNotFound);
}

}  // namespace
}  // namespace cvm
