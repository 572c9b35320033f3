// A stand-in for cvm-agent-http in http_helper_test: the real helper's loop (ServeHttpHelper) in
// front of a fake HttpClient whose behaviour the URL's path picks, so the test drives the
// daemon's side (StartHttpHelper) through a real process without a network. FAKE_HTTP_HELPER
// (environment) breaks the start instead: "exit" (no hello), "silent" (never says hello),
// "version" (hello with another version).
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "common/http.h"
#include "common/http_helper.h"

namespace {

class FakeHttp final : public cvm::HttpClient {
 public:
  cvm::Result<cvm::HttpResponse> Send(const cvm::HttpRequest& r) override {
    std::string path = r.url.substr(r.url.find('/', r.url.find("//") + 2));
    cvm::HttpResponse out;
    out.status = 200;
    if (path == "/echo") {
      out.headers = r.headers;
      out.headers.emplace_back("x-method", r.method);
      out.headers.emplace_back("x-timeout-ms", std::to_string(r.timeout.count()));
      out.headers.emplace_back("x-proxy", r.proxy ? "[" + *r.proxy + "]" : "default");
      out.headers.emplace_back("x-pid", std::to_string(::getpid()));
      out.body = r.body;
    } else if (path == "/error") {
      return cvm::Unavailable("connection refused: " + r.url);
    } else if (path == "/sleep") {
      std::this_thread::sleep_for(std::chrono::seconds(30));
    } else if (path == "/die-soon") {  // answers, then dies before the next request
      std::thread([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        ::_exit(3);
      }).detach();
    } else if (path == "/crash") {
      std::abort();
    } else if (path == "/big") {
      out.body.assign(r.max_response_bytes + 1, 'x');  // what libcurl would never return
    } else if (path == "/huge") {
      out.body.assign(r.max_response_bytes + (2u << 20), 'x');  // a frame over the daemon's limit
    } else {
      out.status = 404;
    }
    return out;
  }
};

}  // namespace

int main() {
  const char* mode = std::getenv("FAKE_HTTP_HELPER");
  std::string m = mode ? mode : "";
  if (m == "exit") return 7;
  if (m == "silent") {
    std::this_thread::sleep_for(std::chrono::seconds(30));
    return 0;
  }
  if (m == "version") {
    nlohmann::json hello = {{"hello", "cvm-agent-http"}, {"version", 99}};
    std::vector<uint8_t> payload = nlohmann::json::to_cbor(hello);
    uint8_t length[4] = {0, 0, 0, static_cast<uint8_t>(payload.size())};
    if (::write(cvm::kHttpHelperFd, length, 4) != 4) return 1;
    if (::write(cvm::kHttpHelperFd, payload.data(), payload.size()) < 0) return 1;
    std::this_thread::sleep_for(std::chrono::seconds(30));
    return 0;
  }
  FakeHttp http;
  return cvm::ServeHttpHelper(cvm::kHttpHelperFd, http);
}
