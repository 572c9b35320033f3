// The 1,000-quote soak: quotes in a loop against one TPM (plain swtpm, no resource manager),
// each verified, then checks that no transient handle was left in the TPM and reports the time
// per quote and the resident-set growth. Exit 0 when every quote verified and no handle leaked.
//
//   swtpm socket --tpm2 --server type=tcp,port=2321 --ctrl type=tcp,port=2322
//       --tpmstate dir=/tmp/swtpm --flags not-need-init,startup-clear &   (one line)
//   tpm_quote_loop --tcti swtpm:host=127.0.0.1,port=2321 [--count 1000] [--ak ecc|rsa]
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "common/args.h"
#include "tpm/attest.h"
#include "tpm/tpm.h"

namespace {

long ResidentKiB() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * 4;
}

}  // namespace

int main(int argc, char** argv) {
  std::string tcti = cvm::tpm::kDefaultTcti, count_text = "1000", ak_alg = "ecc";
  cvm::ArgParser parser("tpm_quote_loop", "[--tcti STR] [--count N] [--ak ecc|rsa]",
                        "Quotes N times, verifying each, and checks for leaked TPM handles.");
  parser.Option("tcti", 0, "STR", "TCTI of the TPM", &tcti);
  parser.Option("count", 'n', "N", "number of quotes (default 1000)", &count_text);
  parser.Option("ak", 0, "ALG", "ecc (default) or rsa", &ak_alg);
  if (auto code = parser.Parse(argc, argv)) return *code;
  const int count = std::atoi(count_text.c_str());
  if (count <= 0) {
    std::fprintf(stderr, "tpm_quote_loop: --count must be a positive number\n");
    return cvm::kExitUsage;
  }
  auto tpm = cvm::tpm::OpenTpm(tcti);
  if (!tpm.ok()) {
    std::fprintf(stderr, "tpm_quote_loop: %s\n", tpm.status().ToString().c_str());
    return cvm::kExitUnavailable;
  }
  cvm::tpm::AkOptions ak;
  if (ak_alg == "rsa") ak.alg = cvm::tpm::AkAlg::kRsa2048;
  const cvm::tpm::PcrSelection selection = cvm::tpm::DefaultPcrSelection();
  const long rss_start = ResidentKiB();
  long rss_after_warmup = rss_start;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < count; ++i) {
    cvm::Bytes nonce = {static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i), 0xA5};
    auto q = (*tpm)->MakeQuote(ak, nonce, selection);
    if (!q.ok()) {
      std::fprintf(stderr, "quote %d: %s\n", i, q.status().ToString().c_str());
      return cvm::kExitRejected;
    }
    auto sig = cvm::tpm::ParseTpmSignature(q->signature);
    auto v = sig.ok() ? cvm::tpm::VerifyQuote(q->ak.key.get(), q->attest, *sig, nonce, q->pcrs)
                      : cvm::Result<cvm::tpm::Attest>(sig.status());
    if (!v.ok()) {
      std::fprintf(stderr, "quote %d: %s\n", i, v.status().ToString().c_str());
      return cvm::kExitRejected;
    }
    if (i == 9) rss_after_warmup = ResidentKiB();
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto handles = (*tpm)->TransientObjectCount();
  if (!handles.ok()) {
    std::fprintf(stderr, "tpm_quote_loop: %s\n", handles.status().ToString().c_str());
    return cvm::kExitUnavailable;
  }
  const long rss_end = ResidentKiB();
  std::printf("quotes: %d (%s AK, %s)\n", count, ak_alg.c_str(),
              cvm::tpm::FormatPcrSelection(selection).c_str());
  std::printf("time: %.2f s total, %.2f ms per quote+verify\n", secs, 1000 * secs / count);
  std::printf("transient handles left in the TPM: %zu\n", *handles);
  std::printf("resident set: %ld KiB at start, %ld KiB after 10 quotes, %ld KiB at end\n",
              rss_start, rss_after_warmup, rss_end);
  return *handles == 0 ? cvm::kExitOk : cvm::kExitRejected;
}
