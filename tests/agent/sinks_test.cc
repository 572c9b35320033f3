#include "agent/sinks.h"

#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstring>
#include <thread>

#include "common/file_util.h"
#include "tests/testing/testing.h"

namespace cvm::agent {
namespace {

using cvm::testing::TempDir;

Config TwoResources(const TempDir& dir) {
  Config c;
  c.paths.secrets_dir = dir.File("secrets");
  c.paths.cryptsetup_keys_dir = dir.File("cryptsetup-keys.d");
  ResourceConfig a;
  a.name = "db";
  a.path = "default/app/db";
  a.file = FileSink{"db", 1234, 2345, 0640};
  a.credential = CredentialSink{{"app.service", "worker.service"}, "dbpass"};
  ResourceConfig b;
  b.name = "root-key";
  b.path = "default/luks/root";
  b.cryptsetup = CryptsetupSink{"root", true, ""};
  c.resources = {a, b};
  return c;
}

SecretBytes Secret(std::string_view s) { return SecretBytes(Bytes(s.begin(), s.end())); }

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      names.push_back(e->d_name);
    }
  }
  ::closedir(d);
  return names;
}

// Abstract addresses are system-wide and ctest runs tests in parallel: the random part of every
// peer name (the part systemd fills with random bytes) gets this process's id and a counter.
std::string UniquePeer(const std::string& name) {
  static std::atomic<int> counter{0};
  size_t end = std::min(name.find('/'), name.size());
  if (end == 0) return name;
  return name.substr(0, end) + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
         name.substr(end);
}

// Connects to `path` from the abstract address "\0<name>" (made unique) and reads until EOF.
std::string Fetch(const std::string& path, const std::string& given_name) {
  const std::string name = UniquePeer(given_name);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un self{};
  self.sun_family = AF_UNIX;
  REQUIRE(name.size() + 1 < sizeof(self.sun_path));
  std::memcpy(self.sun_path + 1, name.data(), name.size());
  socklen_t self_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&self), self_len) == 0);
  sockaddr_un peer{};
  peer.sun_family = AF_UNIX;
  std::memcpy(peer.sun_path, path.data(), path.size());
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&peer), sizeof(peer)) == 0);
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

TEST_CASE("File sinks are written with the configured owner, group and mode") {
  TempDir dir;
  Config c = TwoResources(dir);
  SecretBytes db = Secret("hunter2"), key = Secret("disk-key-bytes");
  REQUIRE(WriteFileSinks(c, {{"db", &db}, {"root-key", &key}}).ok());
  struct stat st {};
  REQUIRE(::stat(dir.File("secrets/db").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0640);
  CHECK(st.st_uid == 1234);
  CHECK(st.st_gid == 2345);
  CHECK(AsChars(*ReadFile(dir.File("secrets/db"))) == "hunter2");
  REQUIRE(::stat(dir.File("cryptsetup-keys.d/root.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(AsChars(*ReadFile(dir.File("cryptsetup-keys.d/root.key"))) == "disk-key-bytes");
  // Only the final files: no temporary file is left behind.
  CHECK(List(dir.File("secrets")) == std::vector<std::string>{"db"});
}

TEST_CASE("A failing file sink leaves nothing partial behind") {
  TempDir dir;
  Config c = TwoResources(dir);
  // The keys directory cannot be created: a file is in its way.
  REQUIRE(WriteFileAtomic(dir.File("cryptsetup-keys.d"), std::string_view("x")).ok());
  SecretBytes db = Secret("hunter2"), key = Secret("disk-key-bytes");
  Status s = WriteFileSinks(c, {{"db", &db}, {"root-key", &key}});
  REQUIRE_FALSE(s.ok());
  CHECK(s.ToString().find("cryptsetup-keys.d") != std::string::npos);
  CHECK(List(dir.File("secrets")).empty());
}

TEST_CASE("A refresh replaces a secret file atomically") {
  TempDir dir;
  Config c = TwoResources(dir);
  c.resources.pop_back();
  SecretBytes v1 = Secret("one"), v2 = Secret("two");
  REQUIRE(WriteFileSinks(c, {{"db", &v1}}).ok());
  REQUIRE(WriteFileSinks(c, {{"db", &v2}}).ok());
  CHECK(AsChars(*ReadFile(dir.File("secrets/db"))) == "two");
  CHECK(List(dir.File("secrets")).size() == 1);
}

TEST_CASE("Peer addresses name a unit credential or a cryptsetup volume") {
  auto cred = ParsePeerAddress("a1b2c3/unit/app.service/dbpass");
  REQUIRE(cred.ok());
  CHECK(cred->kind == KeyRequest::Kind::kCredential);
  CHECK(cred->unit == "app.service");
  CHECK(cred->credential == "dbpass");
  auto vol = ParsePeerAddress("ffee/cryptsetup/root");
  REQUIRE(vol.ok());
  CHECK(vol->kind == KeyRequest::Kind::kCryptsetup);
  CHECK(vol->volume == "root");
  CHECK_FALSE(ParsePeerAddress("x/unit/app.service").ok());
  CHECK_FALSE(ParsePeerAddress("x/unit//dbpass").ok());
  CHECK_FALSE(ParsePeerAddress("x/unit/a/b/c").ok());
  CHECK_FALSE(ParsePeerAddress("x/other/root").ok());
  CHECK_FALSE(ParsePeerAddress("").ok());
}

struct SocketFixture {
  TempDir dir;
  Config config = TwoResources(dir);
  SecretStore store;
  KeySocketServer::Lookup lookup = [this](const KeyRequest& r) -> std::optional<SecretBytes> {
    const ResourceConfig* res = ResolveKeyRequest(config, r);
    if (res == nullptr) return std::nullopt;
    return store.Get(res->name);
  };
  SocketFixture() {
    store.Put("db", Secret("hunter2"));
    store.Put("root-key", Secret("disk-key-bytes"));
  }
};

TEST_CASE("The credentials socket answers an allowed unit with exactly its secret") {
  SocketFixture f;
  KeySocketServer server(KeyRequest::Kind::kCredential, f.lookup);
  std::string path = f.dir.File("credentials.sock");
  REQUIRE(server.Listen(path).ok());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(Fetch(path, "9f8e7d/unit/app.service/dbpass") == "hunter2");
  CHECK(Fetch(path, "0001/unit/worker.service/dbpass") == "hunter2");
  CHECK(server.served() == 2);
}

TEST_CASE("A key socket holds a request made before delivery until the secret arrives") {
  TempDir dir;
  Config config = TwoResources(dir);
  SecretStore store;
  std::atomic<bool> give_up{false};
  KeySocketServer server(KeyRequest::Kind::kCredential,
                         [&](const KeyRequest& r) -> std::optional<SecretBytes> {
                           const ResourceConfig* res = ResolveKeyRequest(config, r);
                           if (res == nullptr) return std::nullopt;
                           return WaitForSecret(store, res->name, [&] { return give_up.load(); });
                         });
  std::string path = dir.File("credentials.sock");
  REQUIRE(server.Listen(path).ok());
  std::thread delivery([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    store.Put("db", Secret("late secret"));
  });
  CHECK(Fetch(path, "1a7e01/unit/app.service/dbpass") == "late secret");
  delivery.join();
  // Given up (boot failed, deadline, stopping): the waiting client gets nothing, at once.
  store.Clear();
  give_up = true;
  CHECK(Fetch(path, "1a7e02/unit/app.service/dbpass").empty());
  CHECK(server.served() == 1);
  CHECK(server.refused() == 1);
}

TEST_CASE("The credentials socket gives nothing to another unit or credential name") {
  SocketFixture f;
  KeySocketServer server(KeyRequest::Kind::kCredential, f.lookup);
  std::string path = f.dir.File("credentials.sock");
  REQUIRE(server.Listen(path).ok());
  CHECK(Fetch(path, "9f8e7d/unit/evil.service/dbpass").empty());
  CHECK(Fetch(path, "9f8e7d/unit/app.service/other").empty());
  CHECK(Fetch(path, "9f8e7d/cryptsetup/root").empty());  // right secret, wrong socket
  CHECK(Fetch(path, "garbage").empty());
  CHECK(server.refused() == 4);
  CHECK(server.served() == 0);
}

TEST_CASE("The cryptsetup socket answers only that volume's key") {
  SocketFixture f;
  KeySocketServer server(KeyRequest::Kind::kCryptsetup, f.lookup);
  std::string path = f.dir.File("cryptsetup.sock");
  REQUIRE(server.Listen(path).ok());
  CHECK(Fetch(path, "abcd/cryptsetup/root") == "disk-key-bytes");
  CHECK(Fetch(path, "abcd/cryptsetup/home").empty());
  CHECK(Fetch(path, "abcd/unit/app.service/dbpass").empty());
}

TEST_CASE("A key socket answers nothing before the secret is delivered") {
  SocketFixture f;
  f.store.Clear();
  KeySocketServer server(KeyRequest::Kind::kCryptsetup, f.lookup);
  std::string path = f.dir.File("cryptsetup.sock");
  REQUIRE(server.Listen(path).ok());
  CHECK(Fetch(path, "abcd/cryptsetup/root").empty());
}

TEST_CASE("The secret store hands out copies and wipes on clear") {
  SecretStore store;
  store.Put("a", Secret("x"));
  auto copy = store.Get("a");
  REQUIRE(copy);
  CHECK(AsChars(copy->view()) == "x");
  store.Clear();
  CHECK_FALSE(store.Get("a"));
  CHECK(AsChars(copy->view()) == "x");
}

TEST_CASE("RemoveStaleTemporaries removes only the temporaries of configured secret files") {
  TempDir dir;
  Config c = TwoResources(dir);
  REQUIRE(MakeDirs(c.paths.secrets_dir, 0755).ok());
  REQUIRE(MakeDirs(c.paths.cryptsetup_keys_dir, 0755).ok());
  auto touch = [](const std::string& path) {
    REQUIRE(WriteFileAtomic(path, std::string_view("partial")).ok());
  };
  const std::string s = c.paths.secrets_dir + "/", k = c.paths.cryptsetup_keys_dir + "/";
  touch(s + "db");                          // a delivered secret: kept
  touch(s + "db.tmp.0123456789abcdef");     // left by a killed delivery: removed
  touch(s + "db.tmp.0123456789ABCDEF");     // removed
  touch(s + "db.tmp.0123");                 // not WriteFileAtomic's name: kept
  touch(s + "db.tmp.0123456789abcdeg");     // kept
  touch(s + "other.tmp.0123456789abcdef");  // not a configured file: kept
  touch(k + "root.key.tmp.fedcba9876543210");
  auto removed = RemoveStaleTemporaries(c);
  REQUIRE(removed.ok());
  CHECK(*removed == 3);
  auto left = List(c.paths.secrets_dir);
  std::sort(left.begin(), left.end());
  CHECK(left == std::vector<std::string>{"db", "db.tmp.0123", "db.tmp.0123456789abcdeg",
                                         "other.tmp.0123456789abcdef"});
  CHECK(List(c.paths.cryptsetup_keys_dir).empty());
  // Directories that do not exist yet are not an error.
  c.paths.secrets_dir = dir.File("absent");
  CHECK(RemoveStaleTemporaries(c).ok());
}

}  // namespace
}  // namespace cvm::agent
