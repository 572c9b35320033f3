// Fuzzes the frames between cvm-agentd and its HTTP helper process (common/http_helper.h): no
// crash, and whatever decodes encodes back to a frame that decodes to the same thing.
#include <cstdint>
#include <cstdlib>

#include "common/http_helper.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cvm::ByteSpan in(data, size);
  if (auto r = cvm::DecodeHttpHelperRequest(in); r.ok()) {
    auto again = cvm::DecodeHttpHelperRequest(cvm::EncodeHttpHelperRequest(*r));
    if (!again.ok() || again->url != r->url || again->body != r->body ||
        again->headers != r->headers || again->proxy != r->proxy || again->timeout != r->timeout ||
        again->max_response_bytes != r->max_response_bytes) {
      std::abort();
    }
  }
  auto result = cvm::DecodeHttpHelperResult(in);
  auto again = cvm::DecodeHttpHelperResult(cvm::EncodeHttpHelperResult(result));
  if (result.ok() != again.ok()) std::abort();
  if (result.ok() && (again->status != result->status || again->body != result->body ||
                      again->headers != result->headers)) {
    std::abort();
  }
  if (!result.ok() && (again.status().code() != result.status().code() ||
                       again.status().ToString() != result.status().ToString())) {
    std::abort();
  }
  return 0;
}
