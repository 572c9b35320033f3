# libFuzzer targets for the tdx library (see fuzz/CMakeLists.txt for cvm_fuzzer).
# Seeds: tests/data/vectors/tdx/ (quotes, collateral.json, CCEL files).
cvm_fuzzer(fuzz_tdx_quote ${CMAKE_CURRENT_LIST_DIR}/tdx_quote_fuzz.cc cvm::tdx)
cvm_fuzzer(fuzz_tdx_certdata ${CMAKE_CURRENT_LIST_DIR}/tdx_certdata_fuzz.cc cvm::tdx)
cvm_fuzzer(fuzz_tdx_pck ${CMAKE_CURRENT_LIST_DIR}/tdx_pck_fuzz.cc cvm::tdx)
cvm_fuzzer(fuzz_tdx_collateral ${CMAKE_CURRENT_LIST_DIR}/tdx_collateral_fuzz.cc cvm::tdx)
cvm_fuzzer(fuzz_tdx_ccel ${CMAKE_CURRENT_LIST_DIR}/tdx_ccel_fuzz.cc cvm::tdx)
cvm_fuzzer(fuzz_tdx_policy ${CMAKE_CURRENT_LIST_DIR}/tdx_policy_fuzz.cc cvm::tdx)
