# libFuzzer targets for cvm-rp's parsers of operator-supplied files and KBS messages (see
# fuzz/CMakeLists.txt for cvm_fuzzer). Seeds: config/*.yaml.
cvm_fuzzer(fuzz_rp_policy ${CMAKE_CURRENT_LIST_DIR}/rp_policy_fuzz.cc cvm::rp_core)
cvm_fuzzer(fuzz_rp_config ${CMAKE_CURRENT_LIST_DIR}/rp_config_fuzz.cc cvm::rp_core)
cvm_fuzzer(fuzz_rp_messages ${CMAKE_CURRENT_LIST_DIR}/rp_messages_fuzz.cc cvm::rp_core)
