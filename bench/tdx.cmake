# Benchmarks for the tdx library (cvm_bench from bench/CMakeLists.txt).
cvm_bench(bench_tdx tdx_bench.cc)
target_link_libraries(bench_tdx PRIVATE cvm::tdx)
