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

TEST_CASE("ReadSecretFile reads a key file exactly into SecretBytes") {
  testing::TempDir dir;
  std::string path = dir.File("key.pem");
  std::string pem =
      "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n";
  REQUIRE(WriteFileAtomic(path, pem, 0600).ok());
  auto secret = ReadSecretFile(path);
  REQUIRE(secret.ok());
  CHECK(secret->chars() == pem);
  CHECK(secret->size() == pem.size());
  REQUIRE(WriteFileAtomic(path, std::string_view(), 0600).ok());
  auto empty = ReadSecretFile(path);
  REQUIRE(empty.ok());
  CHECK(empty->empty());
}

TEST_CASE("ReadSecretFile refuses missing, oversized, non-regular and growing files") {
  testing::TempDir dir;
  CHECK(ReadSecretFile(dir.File("missing")).status().code() == Code::kNotFound);
  std::string big = dir.File("big");
  REQUIRE(WriteFileAtomic(big, std::string(100, 'x')).ok());
  auto over = ReadSecretFile(big, 99);
  CHECK(over.status().code() == Code::kInvalidInput);
  CHECK(over.status().message().find("larger than 99 bytes") != std::string::npos);
  auto directory = ReadSecretFile(dir.path());
  CHECK(directory.status().code() == Code::kInvalidInput);
  CHECK(directory.status().message().find("not a regular file") != std::string::npos);
  // procfs reports st_size 0 for files that have content: the size changed after fstat.
  auto proc = ReadSecretFile("/proc/self/status");
  CHECK(proc.status().code() == Code::kInvalidInput);
  CHECK(proc.status().message().find("grew while being read") != std::string::npos);
}

TEST_CASE("SecretBytes is filled in place and truncated without keeping the tail") {
  SecretBytes s(8);
  CHECK(s.size() == 8);
  for (size_t i = 0; i < s.size(); ++i) s.data()[i] = static_cast<uint8_t>(0xa0 + i);
  const uint8_t* before = s.view().data();
  s.Truncate(3);
  CHECK(s.view().data() == before);
  CHECK(s.view().size() == 3);
  CHECK(before[3] == 0);  // still inside the allocation: the cut tail was wiped
  CHECK(before[7] == 0);
  SecretBytes copy = SecretBytes::CopyOf(s.view());
  CHECK(Bytes(copy.view().begin(), copy.view().end()) == Bytes{0xa0, 0xa1, 0xa2});
  std::string text = "secret";
  WipeString(text);
  CHECK(text.empty());
}

TEST_CASE("SyncDirectory reports a directory it cannot open or sync") {
  testing::TempDir dir;
  CHECK(SyncDirectory(dir.path()).ok());
  CHECK(SyncDirectory(dir.File("missing")).code() == Code::kNotFound);
  std::string file = dir.File("file");
  REQUIRE(WriteFileAtomic(file, std::string_view("x")).ok());
  Status s = SyncDirectory(file);
  CHECK(s.code() == Code::kIoError);
  CHECK(s.message().find("open directory " + file) != std::string::npos);
}

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
