// Load on a running cvm-rp: N clients, each a simulated SEV-SNP guest, run the whole exchange
// (POST /auth, evidence for the challenge, POST /attest, GET /resource and its decryption) in a
// loop for a fixed time. Each exchange uses a fresh HTTP client that holds one connection for its
// three requests (one TLS handshake per exchange over https), as a booting guest does.
// Prints one JSON object:
//   rp_attest_per_s             exchanges per wall-clock second (clients and cvm-rp share the CPUs)
//   attestations, errors, seconds, clients
//   with --rp-pid, cvm-rp's own CPU time over the run (utime + stime from /proc/PID/stat):
//   rp_cpu_s, rp_cpu_ms_per_exchange, rp_attest_per_cpu_s (exchanges per CPU-second of cvm-rp)
//   client_cpu_ms_per_exchange  this process's CPU time (the simulated guests) per exchange
// Exit 0 when at least one exchange succeeded and none failed.
//
//   rp_load --url http[s]://127.0.0.1:PORT --sim DIR --path default/key/app [--clients 4]
//           [--seconds 5] [--rp-pid PID] [--ca-file PEM]
//   rp_load --init-sim DIR      (creates the simulated platform, like cvmctl sim init)
// The simulator is loaded once per client (its keys in memory, as firmware holds them); each
// exchange signs a fresh report for the relying party's nonce and a fresh ephemeral TEE key.
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
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

// CPU seconds (user + system) process `pid` has used so far, from fields 14 and 15 of
// /proc/PID/stat (proc(5)); nullopt when it cannot be read.
std::optional<double> ProcessCpuSeconds(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) is in parentheses and may hold spaces: count after the last ')'.
  size_t paren = stat.rfind(')');
  if (!in || paren == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(paren + 1));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  if (!fields) return std::nullopt;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double OwnCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void Client(const std::string& url, const std::string& ca_file, const snp::SimSnp& sim,
            const std::string& sim_dir, const std::string& path, SteadyClock::time_point end,
            Totals& totals) {
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
  evidence::KbsClientOptions options;
  evidence::KbsEndpoint endpoint;
  endpoint.url = url;
  endpoint.ca_file = ca_file;
  endpoint.proxy = "";
  options.endpoints = {endpoint};
  options.tee = evidence::TeeKind::kSnp;
  while (SteadyClock::now() < end) {
    // A new client per exchange: one connection (and TLS handshake) for its three requests.
    auto http = NewCurlHttpClient(/*keep_alive=*/true);
    evidence::KbsClient client(*http, options, provider);
    auto secret = client.GetResource(path);
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
  std::string url, sim_dir, path, clients_text = "4", seconds_text = "5", init_dir, pid_text,
                                  ca_file;
  ArgParser parser("rp_load", "--url URL --sim DIR --path REPO/TYPE/TAG [options]",
                   "Runs full KBS exchanges against a relying party and prints the rate as JSON.");
  parser.Option("url", 0, "URL", "the relying party's base URL", &url);
  parser.Option("sim", 0, "DIR", "simulated SEV-SNP state (cvmctl sim init DIR --tee snp)",
                &sim_dir);
  parser.Option("path", 0, "REPO/TYPE/TAG", "the resource to fetch in each exchange", &path);
  parser.Option("clients", 0, "N", "concurrent clients (default 4)", &clients_text);
  parser.Option("seconds", 0, "S", "how long to run (default 5)", &seconds_text);
  parser.Option("rp-pid", 0, "PID",
                "the relying party's process: report its CPU time per exchange (/proc/PID/stat)",
                &pid_text);
  parser.Option("ca-file", 0, "PEM", "CA certificate(s) to verify an https relying party with",
                &ca_file);
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
  const long rp_pid = pid_text.empty() ? 0 : std::atol(pid_text.c_str());
  if (!pid_text.empty() && (rp_pid <= 0 || !ProcessCpuSeconds(rp_pid))) {
    std::fprintf(stderr, "rp_load: --rp-pid %s: no such process to account\n", pid_text.c_str());
    return kExitUsage;
  }
  Totals totals;
  const double own_cpu_start = OwnCpuSeconds();
  const std::optional<double> rp_cpu_start = rp_pid > 0 ? ProcessCpuSeconds(rp_pid) : std::nullopt;
  auto start = SteadyClock::now();
  auto end = start + std::chrono::duration_cast<SteadyClock::duration>(
                         std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back(Client, url, ca_file, std::cref(*sim), sim_dir, path, end,
                         std::ref(totals));
  }
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(SteadyClock::now() - start).count();
  const std::optional<double> rp_cpu_end = rp_pid > 0 ? ProcessCpuSeconds(rp_pid) : std::nullopt;
  const double own_cpu = OwnCpuSeconds() - own_cpu_start;
  const long ok = totals.ok.load();
  const double per = ok > 0 ? 1.0 / static_cast<double>(ok) : 0.0;
  std::string rp_cpu;
  if (rp_cpu_start && rp_cpu_end) {
    const double used = *rp_cpu_end - *rp_cpu_start;
    char buf[160];
    std::snprintf(buf, sizeof(buf),
                  ", \"rp_cpu_s\": %.2f, \"rp_cpu_ms_per_exchange\": %.3f, "
                  "\"rp_attest_per_cpu_s\": %.1f",
                  used, used * 1e3 * per, used > 0 ? static_cast<double>(ok) / used : 0.0);
    rp_cpu = buf;
  }
  std::printf(
      "{\"rp_attest_per_s\": %.1f, \"attestations\": %ld, \"errors\": %ld, \"seconds\": %.2f, "
      "\"clients\": %d%s, \"client_cpu_ms_per_exchange\": %.3f}\n",
      static_cast<double>(ok) / elapsed, ok, totals.errors.load(), elapsed, clients, rp_cpu.c_str(),
      own_cpu * 1e3 * per);
  if (rp_pid > 0 && !rp_cpu_end) {
    std::fprintf(stderr, "rp_load: the relying party (pid %ld) exited during the run\n", rp_pid);
    return 1;
  }
  return ok > 0 && totals.errors.load() == 0 ? 0 : 1;
}
