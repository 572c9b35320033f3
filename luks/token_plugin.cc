// libcryptsetup-token-cvm.so: the LUKS2 token plugin of type "cvm" (libcryptsetup's external
// token ABI, CRYPTSETUP_TOKEN_1.0). libcryptsetup loads it from its token directory when a header
// has a cvm token and calls cryptsetup_token_open to get the keyslot passphrase.
//
// open: parse the token (luks/token.h), check the header (luks/header.h: no null cipher in the
// token's keyslots or any segment, the UUID recorded at bind time), then ask the running
// cvm-agentd for the key over its API socket (luks/agent_client.h), waiting at most the token's
// timeout (default 60 s, never more than 600 s). The agent decides, from its own configuration,
// whether this volume gets that resource and which ciphers it accepts; the relying party and its
// trust anchors never come from the header. Every refusal is printed through libcryptsetup's log
// with the reason.
#include <libcryptsetup.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "common/http.h"
#include "luks/agent_client.h"
#include "luks/device.h"
#include "luks/header.h"
#include "luks/token.h"

#define CVM_TOKEN_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

namespace luks = cvm::luks;
using cvm::Code;
using cvm::Status;

void LogError(crypt_device* cd, const std::string& msg) {
  std::string line = "cvm token: " + msg + "\n";
  crypt_log(cd, CRYPT_LOG_ERROR, line.c_str());
}

int ErrnoFor(const Status& s) {
  switch (s.code()) {
    case Code::kInvalidInput:
      return -EINVAL;
    case Code::kRejected:
    case Code::kPermissionDenied:
      return -EPERM;
    case Code::kNotFound:
      return -ENOENT;
    case Code::kDeadlineExceeded:
      return -ETIMEDOUT;
    case Code::kUnavailable:
      return -EAGAIN;
    default:
      return -EIO;
  }
}

int Open(crypt_device* cd, int token_id, char** buffer, size_t* buffer_len) {
  luks::Device device = luks::Device::Borrow(cd);
  auto json = device.TokenJson(token_id);
  if (!json.ok()) {
    LogError(cd, json.status().ToString());
    return ErrnoFor(json.status());
  }
  auto token = luks::ParseToken(*json);
  if (!token.ok()) {
    LogError(cd, "token " + std::to_string(token_id) + ": " + token.status().ToString());
    return -EINVAL;
  }
  // The cipher allow list is the agent's (luks.allowed_ciphers); here only null ciphers, linear
  // segments and a foreign UUID are refused, which no configuration may allow.
  auto facts = luks::CheckDevice(device, *token, luks::HeaderPolicy{});
  if (!facts.ok()) {
    LogError(cd, facts.status().ToString());
    return ErrnoFor(facts.status());
  }
  luks::VolumeKeyRequest req;
  req.socket = luks::AgentSocketPath();
  req.resource = token->resource;
  req.uuid = facts->uuid;
  req.ciphers = facts->ciphers;
  req.timeout = token->timeout();
  auto http = cvm::NewCurlHttpClient();
  auto key = luks::FetchVolumeKey(*http, req);
  if (!key.ok()) {
    LogError(cd, key.status().ToString());
    return ErrnoFor(key.status());
  }
  char* out = static_cast<char*>(std::malloc(key->size()));
  if (out == nullptr) return -ENOMEM;
  std::memcpy(out, key->view().data(), key->size());
  *buffer = out;
  *buffer_len = key->size();
  return 0;
}

}  // namespace

CVM_TOKEN_EXPORT int cryptsetup_token_open(crypt_device* cd, int token, char** buffer,
                                           size_t* buffer_len, void* /*usrptr*/) {
  try {
    return Open(cd, token, buffer, buffer_len);
  } catch (const std::exception& e) {
    LogError(cd, std::string("internal error: ") + e.what());
    return -EIO;
  }
}

// The key is not PIN protected: a PIN is ignored, as systemd's plugins do for tokens without one.
CVM_TOKEN_EXPORT int cryptsetup_token_open_pin(crypt_device* cd, int token, const char* /*pin*/,
                                               size_t /*pin_size*/, char** buffer,
                                               size_t* buffer_len, void* usrptr) {
  return cryptsetup_token_open(cd, token, buffer, buffer_len, usrptr);
}

CVM_TOKEN_EXPORT void cryptsetup_token_buffer_free(void* buffer, size_t buffer_len) {
  if (buffer == nullptr) return;
  explicit_bzero(buffer, buffer_len);
  std::free(buffer);
}

CVM_TOKEN_EXPORT int cryptsetup_token_validate(crypt_device* cd, const char* json) {
  try {
    auto token = luks::ParseToken(json != nullptr ? json : "");
    if (!token.ok()) {
      LogError(cd, token.status().ToString());
      return -EINVAL;
    }
    return 0;
  } catch (const std::exception&) {
    return -EINVAL;
  }
}

CVM_TOKEN_EXPORT void cryptsetup_token_dump(crypt_device* cd, const char* json) {
  try {
    auto token = luks::ParseToken(json != nullptr ? json : "");
    if (!token.ok()) {
      crypt_logf(cd, CRYPT_LOG_NORMAL, "\tinvalid: %s\n", token.status().ToString().c_str());
      return;
    }
    crypt_logf(cd, CRYPT_LOG_NORMAL, "\tresource:   %s\n", token->resource.c_str());
    crypt_logf(cd, CRYPT_LOG_NORMAL, "\tbound UUID: %s\n", token->uuid.c_str());
    crypt_logf(cd, CRYPT_LOG_NORMAL, "\ttimeout:    %d s\n", token->timeout_seconds);
  } catch (const std::exception&) {
  }
}

CVM_TOKEN_EXPORT const char* cryptsetup_token_version(void) { return CVM_TOKEN_VERSION; }
