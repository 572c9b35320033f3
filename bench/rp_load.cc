// Load on a running cvm-rp: N clients, each a simulated SEV-SNP guest, run the whole exchange
// (POST /auth, evidence for the challenge, POST /attest, GET /resource and its decryption) in a
// loop for a fixed time. Prints one JSON object: {"rp_attest_per_s", "attestations", "errors",
// "seconds", "clients"}. Exit 0 when at least one exchange succeeded and none failed.
//
//   rp_load --url http://127.0.0.1:PORT --sim DIR --path default/key/app [--clients 4]
//           [--seconds 5]
//   rp_load --init-sim DIR      (creates the simulated platform, like cvmctl sim init)
// The simulator is loaded once per client (its keys in memory, as firmware holds them); each
// exchange signs a fresh report for the relying party's nonce and a fresh ephemeral TEE key.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "common/args.h"
#include "common/http.h"
#include "evidence/collect.h"
#include "evidence/kbs_client.h"
#include "evidence/trustee.h"
#include "snp/sim.h"

namespace {

using namespace cvm;
using SteadyClock = std::chrono::steady_clock;

struct Totals {
  std::atomic<long> ok{0};
  std::atomic<long> errors{0};
  std::atomic<bool> reported{false};
};

void Client(const std::string& url, const snp::SimSnp& sim, const std::string& sim_dir,
            const std::string& path, SteadyClock::time_point end, Totals& totals) {
  evidence::CollectPlatform platform;
  platform.sim_snp = &sim;
  auto provider = [&](const evidence::KbsChallenge& challenge, const nlohmann::json& jwk,
                      DigestAlg hash) -> Result<evidence::KbsEvidence> {
    evidence::CollectRequest request;
    request.kind = evidence::CollectKind::kSimSnp;
    request.sim_dir = sim_dir;
    request.nonce = challenge.nonce;
    request.tee_pubkey = jwk;
    request.hash = hash;
    CVM_ASSIGN_OR_RETURN(evidence::Bundle bundle, evidence::Collect(request, platform));
    CVM_ASSIGN_OR_RETURN(evidence::TrusteeEvidence te, evidence::ToTrusteeEvidence(bundle));
    evidence::KbsEvidence ev;
    ev.primary_evidence = std::move(te.primary);
    ev.additional_evidence = std::move(te.additional);
    return ev;
  };
  auto http = NewCurlHttpClient();
  evidence::KbsClientOptions options;
  evidence::KbsEndpoint endpoint;
  endpoint.url = url;
  endpoint.proxy = "";
  options.endpoints = {endpoint};
  options.tee = evidence::TeeKind::kSnp;
  evidence::KbsClient client(*http, options, provider);
  while (SteadyClock::now() < end) {
    auto secret = client.GetResource(path);
    client.EndSession();
    if (secret.ok()) {
      totals.ok.fetch_add(1);
    } else {
      totals.errors.fetch_add(1);
      if (!totals.reported.exchange(true)) {
        std::fprintf(stderr, "rp_load: %s\n", secret.status().ToString().c_str());
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string url, sim_dir, path, clients_text = "4", seconds_text = "5", init_dir;
  ArgParser parser("rp_load", "--url URL --sim DIR --path REPO/TYPE/TAG [options]",
                   "Runs full KBS exchanges against a relying party and prints the rate as JSON.");
  parser.Option("url", 0, "URL", "the relying party's base URL", &url);
  parser.Option("sim", 0, "DIR", "simulated SEV-SNP state (cvmctl sim init DIR --tee snp)",
                &sim_dir);
  parser.Option("path", 0, "REPO/TYPE/TAG", "the resource to fetch in each exchange", &path);
  parser.Option("clients", 0, "N", "concurrent clients (default 4)", &clients_text);
  parser.Option("seconds", 0, "S", "how long to run (default 5)", &seconds_text);
  parser.Option("init-sim", 0, "DIR",
                "only create a simulated SEV-SNP platform (Genoa) in DIR and exit", &init_dir);
  if (auto code = parser.Parse(argc, argv)) return *code;
  if (!init_dir.empty()) {
    auto created = snp::SimSnp::Create(snp::SimPlatform{}, init_dir);
    if (created.ok()) return 0;
    std::fprintf(stderr, "rp_load: %s\n", created.status().ToString().c_str());
    return kExitUsage;
  }
  const int clients = std::atoi(clients_text.c_str());
  const double seconds = std::atof(seconds_text.c_str());
  if (url.empty() || sim_dir.empty() || path.empty() || clients <= 0 || seconds <= 0) {
    std::fprintf(stderr, "rp_load: --url, --sim, --path, a positive --clients and --seconds\n");
    return kExitUsage;
  }
  auto sim = snp::SimSnp::Load(sim_dir);
  if (!sim.ok()) {
    std::fprintf(stderr, "rp_load: %s\n", sim.status().ToString().c_str());
    return kExitUsage;
  }
  Totals totals;
  auto start = SteadyClock::now();
  auto end = start + std::chrono::duration_cast<SteadyClock::duration>(
                         std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back(Client, url, std::cref(*sim), sim_dir, path, end, std::ref(totals));
  }
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(SteadyClock::now() - start).count();
  std::printf(
      "{\"rp_attest_per_s\": %.1f, \"attestations\": %ld, \"errors\": %ld, \"seconds\": %.2f, "
      "\"clients\": %d}\n",
      static_cast<double>(totals.ok.load()) / elapsed, totals.ok.load(), totals.errors.load(),
      elapsed, clients);
  return totals.ok.load() > 0 && totals.errors.load() == 0 ? 0 : 1;
}
