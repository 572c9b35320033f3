// TDX verification cost: a DCAP quote with its collateral, as a relying party checks it.
#include <benchmark/benchmark.h>

#include "common/clock.h"
#include "tdx/collateral.h"
#include "tdx/quote.h"
#include "tdx/tcb.h"
#include "tdx/verify.h"
#include "tests/testing/testing.h"

namespace cvm {
namespace {

TimePoint At() { return *ParseTime("2025-06-20T00:00:00Z"); }

// Quote signature, QE report, PCK chain to the built-in Intel root.
void BM_TdxVerifyQuote(benchmark::State& state) {
  auto quote = tdx::ParseQuote(testing::ReadData("vectors/tdx/v4-dcap/quote.bin"));
  tdx::QuoteVerifyOptions options;
  options.at = At();
  for (auto _ : state) {
    if (!tdx::VerifyQuote(*quote, options).ok()) return state.SkipWithError("did not verify");
  }
}
BENCHMARK(BM_TdxVerifyQuote);

// Collateral signatures, chains and CRLs, then the TCB level evaluation.
void BM_TdxVerifyCollateralAndTcb(benchmark::State& state) {
  auto quote = tdx::ParseQuote(testing::ReadData("vectors/tdx/v4-dcap/quote.bin"));
  Bytes json = testing::ReadData("vectors/tdx/v4-dcap/collateral.json");
  tdx::QuoteVerifyOptions options;
  options.at = At();
  auto verified = tdx::VerifyQuote(*quote, options);
  for (auto _ : state) {
    auto collateral = tdx::ParseCollateral(AsChars(json));
    auto checked = tdx::VerifyCollateral(*collateral, {}, At());
    if (!checked.ok()) return state.SkipWithError("collateral did not verify");
    auto tcb = tdx::EvaluateTcb(*quote, verified->pck_extensions, *checked);
    if (!tcb.ok()) return state.SkipWithError("TCB did not evaluate");
  }
}
BENCHMARK(BM_TdxVerifyCollateralAndTcb);

}  // namespace
}  // namespace cvm
