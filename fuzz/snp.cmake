# libFuzzer targets for the snp library (see fuzz/CMakeLists.txt for cvm_fuzzer).
cvm_fuzzer(fuzz_snp_report ${CMAKE_CURRENT_LIST_DIR}/snp_report_fuzz.cc cvm::snp)
cvm_fuzzer(fuzz_snp_certs_table ${CMAKE_CURRENT_LIST_DIR}/snp_certs_table_fuzz.cc cvm::snp)
cvm_fuzzer(fuzz_snp_vcek ${CMAKE_CURRENT_LIST_DIR}/snp_vcek_fuzz.cc cvm::snp)
cvm_fuzzer(fuzz_snp_policy ${CMAKE_CURRENT_LIST_DIR}/snp_policy_fuzz.cc cvm::snp)
cvm_fuzzer(fuzz_snp_ovmf ${CMAKE_CURRENT_LIST_DIR}/snp_ovmf_fuzz.cc cvm::snp)
cvm_fuzzer(fuzz_snp_idblock ${CMAKE_CURRENT_LIST_DIR}/snp_idblock_fuzz.cc cvm::snp)
