# Benchmarks for the tdx library (cvm_bench from bench/CMakeLists.txt).
