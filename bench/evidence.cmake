# Benchmarks for the evidence library (cvm_bench from bench/CMakeLists.txt): the simulated
# firmware's signing rate and the bundle verification a relying party runs per attestation.
cvm_bench(bench_evidence evidence_bench.cc)
target_link_libraries(bench_evidence PRIVATE cvm::evidence)

# rp_load: full KBS exchanges against a running cvm-rp (scripts/bench's rp_attest_per_s).
add_executable(rp_load rp_load.cc)
target_link_libraries(rp_load PRIVATE cvm::evidence)
cvm_warnings(rp_load)
