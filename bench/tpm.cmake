# Benchmarks for the tpm library (cvm_bench from bench/CMakeLists.txt).
