# Benchmarks for the snp library (cvm_bench from bench/CMakeLists.txt).
cvm_bench(bench_snp snp_bench.cc)
target_link_libraries(bench_snp PRIVATE cvm::snp)
