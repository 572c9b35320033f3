# Benchmarks for the tpm library (cvm_bench from bench/CMakeLists.txt).
# bench_tpm starts its own swtpm (tests/tpm/swtpm_fixture.cc); BM_TpmQuoteAndVerify/0 is the
# 1,000-quote soak against plain swtpm.
cvm_bench(bench_tpm tpm_bench.cc ${PROJECT_SOURCE_DIR}/tests/tpm/swtpm_fixture.cc)
target_link_libraries(bench_tpm PRIVATE cvm::tpm)

# tpm_quote_loop: the same soak against any TPM named by --tcti (e.g. a real /dev/tpmrm0).
add_executable(tpm_quote_loop tpm_quote_loop.cc)
target_link_libraries(tpm_quote_loop PRIVATE cvm::tpm)
cvm_warnings(tpm_quote_loop)
