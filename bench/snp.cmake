# Benchmarks for the snp library (cvm_bench from bench/CMakeLists.txt).
