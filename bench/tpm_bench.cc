// vTPM benchmarks against a real swtpm that each benchmark starts on a free loopback port:
// quote + verify (the 1,000-quote soak: no failure, no transient handle left behind), and the
// verification alone.
#include <benchmark/benchmark.h>

#include "tests/tpm/swtpm_fixture.h"
#include "tpm/attest.h"
#include "tpm/tpm.h"

namespace cvm {
namespace {

// TPM2_Quote (with the AK created and flushed each time) plus our verification, 1,000 times
// against plain swtpm (no resource manager). Fails if any quote fails or a handle leaks.
void BM_TpmQuoteAndVerify(benchmark::State& state) {
  auto swtpm = testing::Swtpm::Start();
  if (!swtpm) return state.SkipWithError("swtpm could not be started");
  auto tpm = tpm::OpenTpm(swtpm->tcti());
  if (!tpm.ok()) return state.SkipWithError(tpm.status().ToString().c_str());
  tpm::AkOptions ak;
  ak.alg = state.range(0) == 0 ? tpm::AkAlg::kEcP256 : tpm::AkAlg::kRsa2048;
  const tpm::PcrSelection selection = tpm::DefaultPcrSelection();
  uint32_t i = 0;
  for (auto _ : state) {
    Bytes nonce = {static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i), 0xA5};
    ++i;
    auto q = (*tpm)->MakeQuote(ak, nonce, selection);
    if (!q.ok()) return state.SkipWithError(q.status().ToString().c_str());
    auto sig = tpm::ParseTpmSignature(q->signature);
    if (!sig.ok() || !tpm::VerifyQuote(q->ak.key.get(), q->attest, *sig, nonce, q->pcrs).ok()) {
      return state.SkipWithError("a quote did not verify");
    }
  }
  auto handles = (*tpm)->TransientObjectCount();
  if (!handles.ok() || *handles != 0) state.SkipWithError("transient handles were left behind");
  state.counters["transient_handles_left"] = handles.ok() ? static_cast<double>(*handles) : -1;
}
BENCHMARK(BM_TpmQuoteAndVerify)->Arg(0)->Iterations(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TpmQuoteAndVerify)->Arg(1)->Iterations(100)->Unit(benchmark::kMillisecond);

// Verification of one swtpm quote (ECDSA P-256): signature, structure, nonce, PCR digest.
void BM_TpmVerifyQuote(benchmark::State& state) {
  auto swtpm = testing::Swtpm::Start();
  if (!swtpm) return state.SkipWithError("swtpm could not be started");
  auto tpm = tpm::OpenTpm(swtpm->tcti());
  if (!tpm.ok()) return state.SkipWithError(tpm.status().ToString().c_str());
  Bytes nonce = {1, 2, 3};
  auto q = (*tpm)->MakeQuote({}, nonce, tpm::DefaultPcrSelection());
  if (!q.ok()) return state.SkipWithError(q.status().ToString().c_str());
  auto sig = tpm::ParseTpmSignature(q->signature);
  for (auto _ : state) {
    benchmark::DoNotOptimize(tpm::VerifyQuote(q->ak.key.get(), q->attest, *sig, nonce, q->pcrs));
  }
}
BENCHMARK(BM_TpmVerifyQuote);

}  // namespace
}  // namespace cvm
