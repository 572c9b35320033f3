#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

#include "common/http.h"

namespace cvm {

namespace {

struct Transfer {
  HttpResponse* response;
  size_t max_bytes;
  bool too_large = false;
};

size_t OnBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * nmemb;
  if (t->response->body.size() + n > t->max_bytes) {
    t->too_large = true;
    return 0;  // aborts the transfer
  }
  t->response->body.insert(t->response->body.end(), data, data + n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * nmemb);
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string key(line.substr(0, colon));
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() &&
           (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    t->response->headers.emplace_back(std::move(key), std::string(value));
  }
  return size * nmemb;
}

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(bool keep_alive) : keep_alive_(keep_alive) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  Result<HttpResponse> Send(const HttpRequest& req) override {
    using List = std::unique_ptr<curl_slist, void (*)(curl_slist*)>;
    // With keep_alive the handle (and with it libcurl's connection cache) outlives the request;
    // curl_easy_reset clears every option but keeps the open connections. A request whose
    // connection settings differ from the previous one's starts from a fresh handle, so a
    // connection is never reused under another CA file, pin, proxy or socket.
    Easy fresh(nullptr, curl_easy_cleanup);  // without keep_alive: closed when Send returns
    CURL* c = nullptr;
    if (keep_alive_) {
      std::string settings = req.ca_file + '\n' + req.pinned_spki_sha256 + '\n' +
                             (req.proxy ? "p" + *req.proxy : "-") + '\n' + req.unix_socket;
      if (curl_ && settings == settings_) {
        curl_easy_reset(curl_.get());
      } else {
        curl_.reset(curl_easy_init());
        settings_ = std::move(settings);
      }
      c = curl_.get();
    } else {
      fresh.reset(curl_easy_init());
      c = fresh.get();
    }
    if (c == nullptr) return Internal("curl_easy_init failed");
    HttpResponse response;
    Transfer transfer{&response, req.max_response_bytes};
    List headers(nullptr, curl_slist_free_all);
    for (const auto& [k, v] : req.headers) {
      std::string line = k;
      line += ": ";
      line += v;
      headers.reset(curl_slist_append(headers.release(), line.c_str()));
    }
    curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));  // NOLINT
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(req.connect_timeout.count()));  // NOLINT
    // Never follow redirects (a relying party or certificate service has no reason to), and
    // keep cookies out of any global store: callers handle the one cookie they need explicitly.
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    // TLS peers and host names are always verified (libcurl's defaults, set explicitly).
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!req.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, req.ca_file.c_str());
    std::string pins;
    if (!req.pinned_spki_sha256.empty()) {
      auto pinned = PinnedPublicKeyOption(req.pinned_spki_sha256);
      if (!pinned.ok()) return pinned.status();
      pins = std::move(pinned).value();
      curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, pins.c_str());
    }
    if (req.proxy) {
      curl_easy_setopt(c, CURLOPT_PROXY, req.proxy->c_str());
      // An empty proxy disables proxying; "*" also overrides a no_proxy/NO_PROXY environment.
      if (req.proxy->empty()) curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    if (!req.unix_socket.empty()) {
      curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, req.unix_socket.c_str());
    }
    if (req.method == "GET") {
      curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(req.body.size()));  // NOLINT
    }
    CURLcode rc = curl_easy_perform(c);
    if (transfer.too_large) {
      return InvalidInput(req.url + ": response larger than " +
                          std::to_string(req.max_response_bytes) + " bytes");
    }
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      return DeadlineExceeded(req.url + ": " + curl_easy_strerror(rc));
    }
    if (rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH) {
      return Rejected(req.url + ": the server's public key does not match the pinned SHA-256");
    }
    if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE) {
      return Rejected(req.url + ": TLS peer verification failed: " + curl_easy_strerror(rc));
    }
    if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
      return InvalidInput(req.url + ": " + curl_easy_strerror(rc));
    }
    if (rc != CURLE_OK) return Unavailable(req.url + ": " + curl_easy_strerror(rc));
    long status = 0;  // NOLINT(google-runtime-int)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    return response;
  }

 private:
  using Easy = std::unique_ptr<CURL, void (*)(CURL*)>;
  const bool keep_alive_;
  Easy curl_{nullptr, curl_easy_cleanup};
  std::string settings_;  // ca_file, pins, proxy and socket of the request curl_ last served
};

}  // namespace

std::unique_ptr<HttpClient> NewCurlHttpClient(bool keep_alive) {
  return std::make_unique<CurlHttpClient>(keep_alive);
}

}  // namespace cvm
