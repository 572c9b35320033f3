# Benchmarks for the relying party (cvm_bench from bench/CMakeLists.txt): cvm-rp's request
# handlers with its production adapters, in-process (no transport), and the floors of an
# exchange (the protocol's own cryptography; the transport, plain and TLS, served the cheapest way).
cvm_bench(bench_rp rp_bench.cc ${CMAKE_SOURCE_DIR}/rp/evidence_adapters.cc)
target_link_libraries(bench_rp PRIVATE cvm::rp_core cvm::evidence OpenSSL::SSL Threads::Threads)
