# Benchmarks for the gpu library (cvm_bench from bench/CMakeLists.txt).
cvm_bench(bench_gpu gpu_bench.cc)
target_link_libraries(bench_gpu PRIVATE cvm::gpu nlohmann_json::nlohmann_json)
