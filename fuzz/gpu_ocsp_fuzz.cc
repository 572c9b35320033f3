// Fuzzes the handling of an OCSP responder's answer (untrusted bytes from the network): the
// bytes come back from a fake HTTP client and go through OpenSSL's OCSP parsing and our checks.
#include <cstdint>

#include "gpu/ocsp.h"
#include "gpu/roots.h"

namespace {

class Replay final : public cvm::HttpClient {
 public:
  Replay(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  cvm::Result<cvm::HttpResponse> Send(const cvm::HttpRequest&) override {
    cvm::HttpResponse r;
    r.status = 200;
    r.body.assign(data_, data_ + size_);
    return r;
  }

 private:
  const uint8_t* data_;
  size_t size_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Replay http(data, size);
  cvm::gpu::OcspOptions o;
  o.http = &http;
  const cvm::Certificate& root = cvm::gpu::DeviceIdentityRoot();
  (void)cvm::gpu::CheckChainOcsp({root, root, root}, o);
  return 0;
}
