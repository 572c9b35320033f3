// Fuzzes what a local API caller controls: the request target (path and query, routed and
// decoded by ApiHandler), its body, and a key-socket peer's abstract address (ParsePeerAddress).
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/api.h"
#include "agent/sinks.h"

namespace {

class NoEvidence final : public cvm::agent::EvidenceSource {
 public:
  cvm::Result<std::string> Collect(const cvm::agent::EvidenceRequest&) override {
    return std::string("{}");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cvm::agent;  // NOLINT(google-build-using-namespace)
  static Config config = [] {
    Config c;
    ResourceConfig r;
    r.name = "db";
    r.path = "default/app/db";
    r.api = ApiSink{{0}, {}, false};
    c.resources = {r};
    return c;
  }();
  static AgentState state(config, Platform{}, cvm::SystemClock::Get().Now());
  static Metrics metrics;
  static SecretStore secrets;
  static NoEvidence evidence;
  static ApiHandler handler(
      ApiHandler::Deps{&config, &state, &metrics, &secrets, &evidence, [] {},
                       [] { return std::string(); }, &cvm::SystemClock::Get(),
                       [](const std::string&) -> cvm::Result<std::pair<bool, std::string>> {
                         return cvm::Unavailable("no relying party in the fuzzer");
                       }});
  std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)ParsePeerAddress(input);
  ApiRequest request;
  request.method = size % 2 ? "GET" : "POST";
  request.target = std::string(input);
  request.peer = PeerCred{1, static_cast<uid_t>(size % 3), 0};
  // The same bytes as a body: the JSON of POST /v1/luks/key and /v1/luks/provision.
  request.body = std::string(input);
  (void)handler.Handle(request);
  return 0;
}
