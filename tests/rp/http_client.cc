#include "tests/rp/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>

namespace cvm::rp::testing {
namespace {

// libcurl's global state is set up once, before any test starts threads.
const bool kCurlReady = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    static_cast<Reply*>(user)->headers.emplace_back(name, value);
  }
  return size * n;
}

}  // namespace

std::string Reply::Header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

nlohmann::json Reply::Json() const { return nlohmann::json::parse(body, nullptr, false); }

KbsClient::KbsClient(std::string base, std::string ca_file)
    : base_(std::move(base)), ca_file_(std::move(ca_file)), curl_(curl_easy_init()) {
  (void)kCurlReady;
}

KbsClient::~KbsClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

Reply KbsClient::Send(const std::string& method, const std::string& path, const std::string& body,
                      const std::vector<std::string>& headers) {
  CURL* c = static_cast<CURL*>(curl_);
  Reply reply;
  curl_easy_reset(c);
  std::string url = base_ + path;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (method == "POST") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  if (!ca_file_.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, ca_file_.c_str());
  curl_slist* list = nullptr;
  list = curl_slist_append(list, "Content-Type: application/json");
  list = curl_slist_append(list, "Expect:");
  if (!cookie.empty()) list = curl_slist_append(list, ("Cookie: kbs-session-id=" + cookie).c_str());
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &reply);
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(list);
  if (rc != CURLE_OK) {
    reply.error = curl_easy_strerror(rc);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
  return reply;
}

Reply KbsClient::Auth(const std::string& tee, const std::string& version) {
  nlohmann::json req = {
      {"version", version},
      {"tee", tee},
      {"extra-params", {{"supported-hash-algorithms", {"sha256", "sha384", "sha512", "sm3"}}}}};
  Reply r = Send("POST", "/kbs/v0/auth", req.dump());
  if (r.status == 200) {
    std::string set = r.Header("set-cookie");
    const std::string key = "kbs-session-id=";
    if (set.rfind(key, 0) == 0) cookie = set.substr(key.size(), set.find(';') - key.size());
    nonce = r.Json().value("nonce", "");
  }
  return r;
}

Reply KbsClient::Attest(const std::string& body) { return Send("POST", "/kbs/v0/attest", body); }

Reply KbsClient::Resource(const std::string& path, const std::string& bearer) {
  std::vector<std::string> headers;
  if (!bearer.empty()) headers.push_back("Authorization: Bearer " + bearer);
  return Send("GET", "/kbs/v0/resource/" + path, "", headers);
}

}  // namespace cvm::rp::testing
