#include "common/http_helper.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/file_util.h"
#include "tests/testing/testing.h"

namespace cvm {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;

HttpRequest SampleRequest() {
  HttpRequest r;
  r.method = "POST";
  r.url = "https://kbs.example:8080/kbs/v0/attest";
  r.headers = {{"Content-Type", "application/json"}, {"Cookie", "kbs-session-id=abc"}};
  r.body = {'{', 0, 0xff, '}'};
  r.timeout = milliseconds(1234);
  r.connect_timeout = milliseconds(567);
  r.max_response_bytes = 4096;
  r.ca_file = "/etc/cvm-agent/rp-ca.pem";
  r.pinned_spki_sha256 = std::string(43, 'A') + "=";
  r.unix_socket = "";
  return r;
}

Bytes Cbor(const json& j) { return json::to_cbor(j); }

TEST_CASE("HTTP helper requests keep every field across the process boundary") {
  for (std::optional<std::string> proxy :
       {std::optional<std::string>(), std::optional<std::string>(""),
        std::optional<std::string>("http://proxy:3128")}) {
    HttpRequest in = SampleRequest();
    in.proxy = proxy;
    auto out = DecodeHttpHelperRequest(EncodeHttpHelperRequest(in));
    REQUIRE(out.ok());
    CHECK(out->method == in.method);
    CHECK(out->url == in.url);
    CHECK(out->headers == in.headers);
    CHECK(out->body == in.body);
    CHECK(out->timeout == in.timeout);
    CHECK(out->connect_timeout == in.connect_timeout);
    CHECK(out->max_response_bytes == in.max_response_bytes);
    CHECK(out->ca_file == in.ca_file);
    CHECK(out->pinned_spki_sha256 == in.pinned_spki_sha256);
    CHECK(out->proxy == in.proxy);  // unset (the environment), "" (none) and a URL differ
    CHECK(out->unix_socket == in.unix_socket);
  }
}

TEST_CASE("HTTP helper results carry a response or the error unchanged") {
  HttpResponse response;
  response.status = 401;
  response.headers = {{"content-type", "application/json"}};
  response.body = {0, 1, 2};
  auto ok = DecodeHttpHelperResult(EncodeHttpHelperResult(response));
  REQUIRE(ok.ok());
  CHECK(ok->status == 401);
  CHECK(ok->headers == response.headers);
  CHECK(ok->body == response.body);

  Result<HttpResponse> error =
      Rejected("TLS peer not verified").WithContext("https://kbs.example/kbs/v0/auth");
  auto back = DecodeHttpHelperResult(EncodeHttpHelperResult(error));
  REQUIRE_FALSE(back.ok());
  CHECK(back.status().code() == Code::kRejected);
  CHECK(back.status().ToString() == "https://kbs.example/kbs/v0/auth: TLS peer not verified");
}

TEST_CASE("HTTP helper frames of any other shape are refused naming the problem") {
  json good = json::from_cbor(EncodeHttpHelperRequest(SampleRequest()));
  auto refused = [](const Bytes& cbor, const std::string& words) {
    auto r = DecodeHttpHelperRequest(cbor);
    INFO(words);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidInput);
    CHECK(r.status().message().find(words) != std::string::npos);
  };
  refused(Bytes{0xff, 0x00}, "not CBOR");  // a break code outside an indefinite container
  refused(Cbor(json::array()), "request is not a map");
  json j = good;
  j.erase("url");
  refused(Cbor(j), "no url");
  j = good;
  j["body"] = "text";
  refused(Cbor(j), "body is not a byte string");
  j = good;
  j["timeout_ms"] = -5;
  refused(Cbor(j), "timeout_ms -5 is out of range");
  j = good;
  j["max_response_bytes"] = uint64_t(1) << 40;
  refused(Cbor(j), "max_response_bytes");
  j = good;
  j["headers"] = json::array({json::array({"only-a-name"})});
  refused(Cbor(j), "headers holds an entry that is not [name, value]");
  j = good;
  j["follow_redirects"] = true;
  refused(Cbor(j), "unknown members");
  j = good;
  j["proxy"] = 1;
  refused(Cbor(j), "proxy is not a string");

  // What the parser must refuse before building anything (a misbehaving helper writes it):
  // fuzz_http_helper's find, an array announcing 11 * 10^18 entries, which made json::from_cbor
  // throw despite allow_exceptions false; nesting deeper than a frame's; a repeated key.
  refused(Bytes{0x9b, 0x9b, 0x9b, 0x9b, 0x9b, 'z', 'o', 'z', 'o'}, "not CBOR of a frame's shape");
  refused(Bytes(100000, 0x81), "not CBOR of a frame's shape");  // [[[[...]]]] 100,000 deep
  refused(Bytes{0x9a, 0x00, 0x10, 0x00, 0x01}, "not CBOR of a frame's shape");  // 2^20+1 entries
  Bytes twice = Cbor({{"url", "a"}});
  twice[0] = 0xa2;  // a map of two entries: "url": "a", "url": "a"
  twice.insert(twice.end(), twice.begin() + 1, twice.end());
  refused(twice, "not CBOR of a frame's shape");
  CHECK(DecodeHttpHelperResult(Bytes{0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
            .status()
            .code() == Code::kInvalidInput);

  auto result = [](const json& frame) { return DecodeHttpHelperResult(Cbor(frame)); };
  CHECK(result({{"status", 200}, {"headers", json::array()}}).status().message().find("no body") !=
        std::string::npos);
  CHECK(result({{"status", 42}, {"headers", json::array()}, {"body", json::binary({})}})
            .status()
            .message()
            .find("status 42 is out of range") != std::string::npos);
  CHECK(result({{"error", {{"code", 0}, {"message", "x"}}}}).status().code() ==
        Code::kInvalidInput);  // code 0 is "ok": an error frame cannot carry it
  CHECK(result({{"error", {{"code", 99}, {"message", "x"}}}})
            .status()
            .message()
            .find("out of range") != std::string::npos);
}

// No child of this process is left unreaped.
bool NoChildren() {
  int status = 0;
  return ::waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD;
}

HttpHelperOptions FakeHelper() {
  HttpHelperOptions o;
  o.path = FAKE_HTTP_HELPER;
  o.start_timeout = milliseconds(5000);
  o.grace = milliseconds(200);
  return o;
}

HttpRequest To(const std::string& path) {
  HttpRequest r;
  r.url = "http://rp.test" + path;
  r.timeout = milliseconds(5000);
  return r;
}

TEST_CASE("The HTTP helper process answers every request of its client, in order") {
  ::unsetenv("FAKE_HTTP_HELPER");
  {
    auto http = StartHttpHelper(FakeHelper());
    REQUIRE(http.ok());
    HttpRequest r = To("/echo");
    r.method = "PUT";
    r.headers = {{"x-a", "1"}};
    r.body = {'h', 'i', 0};
    r.proxy = "";
    auto a = (*http)->Send(r);
    REQUIRE(a.ok());
    CHECK(a->status == 200);
    CHECK(a->body == r.body);
    CHECK(a->Header("x-a") == "1");
    CHECK(a->Header("x-method") == "PUT");
    CHECK(a->Header("x-proxy") == "[]");
    CHECK(a->Header("x-timeout-ms") == "5000");
    auto b = (*http)->Send(To("/echo"));
    REQUIRE(b.ok());
    CHECK(b->Header("x-proxy") == "default");
    CHECK(b->Header("x-pid") == a->Header("x-pid"));  // one process per client
    auto missing = (*http)->Send(To("/nothing"));
    REQUIRE(missing.ok());
    CHECK(missing->status == 404);
    // The client's errors come back as they were made.
    auto refused = (*http)->Send(To("/error"));
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().code() == Code::kUnavailable);
    CHECK(refused.status().message() == "connection refused: http://rp.test/error");
  }
  CHECK(NoChildren());  // the client's end reaped its helper
}

TEST_CASE("A helper that dies or hangs is reported, and the next request gets a new one") {
  ::unsetenv("FAKE_HTTP_HELPER");
  auto http = StartHttpHelper(FakeHelper());
  REQUIRE(http.ok());
  auto first = (*http)->Send(To("/echo"));
  REQUIRE(first.ok());

  auto crashed = (*http)->Send(To("/crash"));
  REQUIRE_FALSE(crashed.ok());
  CHECK(crashed.status().code() == Code::kUnavailable);
  CHECK(crashed.status().message().find("the HTTP helper exited (signal 6)") != std::string::npos);
  CHECK(NoChildren());
  auto again = (*http)->Send(To("/echo"));
  REQUIRE(again.ok());
  CHECK(again->Header("x-pid") != first->Header("x-pid"));

  // Dead between two requests: the write fails, the helper is reaped, the next one is new.
  REQUIRE((*http)->Send(To("/die-soon")).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto unsent = (*http)->Send(To("/echo"));
  REQUIRE_FALSE(unsent.ok());
  CHECK(unsent.status().code() == Code::kUnavailable);
  CHECK(unsent.status().message().find("could not be sent the request") != std::string::npos);
  CHECK(unsent.status().message().find("exit status 3") != std::string::npos);
  CHECK(NoChildren());
  CHECK((*http)->Send(To("/echo")).ok());

  HttpRequest slow = To("/sleep");
  slow.timeout = milliseconds(100);
  auto t0 = std::chrono::steady_clock::now();
  auto hung = (*http)->Send(slow);
  auto waited = std::chrono::steady_clock::now() - t0;
  REQUIRE_FALSE(hung.ok());
  CHECK(hung.status().code() == Code::kDeadlineExceeded);
  CHECK(hung.status().message().find("did not answer within 300 ms and was stopped") !=
        std::string::npos);
  CHECK(waited < std::chrono::seconds(10));  // not the helper's 30 s
  CHECK(NoChildren());
  CHECK((*http)->Send(To("/echo")).ok());

  // A body over the request's limit is a helper gone wrong: refused, and the helper replaced.
  HttpRequest big = To("/big");
  big.max_response_bytes = 10;
  auto over = (*http)->Send(big);
  REQUIRE_FALSE(over.ok());
  CHECK(over.status().code() == Code::kInternal);
  CHECK(over.status().message().find("max_response_bytes") != std::string::npos);
  CHECK((*http)->Send(To("/echo")).ok());
  // A frame over what the request allows is refused before it is read.
  HttpRequest huge_request = To("/huge");
  huge_request.max_response_bytes = 10;
  auto huge = (*http)->Send(huge_request);
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.status().code() == Code::kUnavailable);
  CHECK(huge.status().message().find("is over the limit") != std::string::npos);
  CHECK(NoChildren());
  CHECK((*http)->Send(To("/echo")).ok());
}

TEST_CASE("A launcher hands out the helper it started first, then starts one per client") {
  ::unsetenv("FAKE_HTTP_HELPER");
  const HttpHelperStats before = GetHttpHelperStats();
  {
    HttpHelperLauncher launcher(FakeHelper());
    CHECK(GetHttpHelperStats().started == before.started + 1);  // at construction
    auto first = launcher.Take();
    REQUIRE(first.ok());
    CHECK(GetHttpHelperStats().started == before.started + 1);  // the same process
    auto second = launcher.Take();
    REQUIRE(second.ok());
    CHECK(GetHttpHelperStats().started == before.started + 2);
    auto a = (*first)->Send(To("/echo"));
    auto b = (*second)->Send(To("/echo"));
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a->Header("x-pid") != b->Header("x-pid"));
  }
  const HttpHelperStats after = GetHttpHelperStats();
  CHECK(after.reaped == before.reaped + 2);
  CHECK(after.cpu > before.cpu);  // wait4's accounting of both
  CHECK(NoChildren());

  // A launcher whose helper is missing reports it at the first Take.
  HttpHelperOptions missing = FakeHelper();
  missing.path = "/nonexistent/cvm-agent-http";
  HttpHelperLauncher broken(missing);
  auto none = broken.Take();
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().ToString().find("/nonexistent/cvm-agent-http") != std::string::npos);
}

TEST_CASE("A helper that is missing or does not start fails the start naming it") {
  testing::TempDir dir;
  HttpHelperOptions o = FakeHelper();
  o.path = dir.File("cvm-agent-http");
  auto missing = StartHttpHelper(o);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == Code::kNotFound);
  CHECK(missing.status().ToString().find(o.path) != std::string::npos);

  REQUIRE(WriteFileAtomic(o.path, std::string_view("#!/bin/sh\n"), 0644).ok());
  auto not_executable = StartHttpHelper(o);
  REQUIRE_FALSE(not_executable.ok());
  CHECK(not_executable.status().code() == Code::kPermissionDenied);

  o = FakeHelper();
  ::setenv("FAKE_HTTP_HELPER", "exit", 1);
  auto exited = StartHttpHelper(o);
  REQUIRE_FALSE(exited.ok());
  CHECK(exited.status().code() == Code::kUnavailable);
  CHECK(exited.status().message().find("did not start: it exited (exit status 7)") !=
        std::string::npos);

  ::setenv("FAKE_HTTP_HELPER", "silent", 1);
  o.start_timeout = milliseconds(200);
  auto silent = StartHttpHelper(o);
  REQUIRE_FALSE(silent.ok());
  CHECK(silent.status().code() == Code::kUnavailable);
  CHECK(silent.status().message().find("did not start: no answer in time") != std::string::npos);

  ::setenv("FAKE_HTTP_HELPER", "version", 1);
  o.start_timeout = milliseconds(5000);
  auto other = StartHttpHelper(o);
  REQUIRE_FALSE(other.ok());
  CHECK(other.status().message().find("it speaks version 99") != std::string::npos);
  ::unsetenv("FAKE_HTTP_HELPER");
  CHECK(NoChildren());
}

}  // namespace
}  // namespace cvm
