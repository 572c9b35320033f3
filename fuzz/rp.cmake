# libFuzzer targets for cvm-rp's parsers of operator-supplied files (see fuzz/CMakeLists.txt for
# cvm_fuzzer). Seeds: config/*.yaml. The KBS messages, cookie and resource paths cvm-rp reads are
# the evidence library's parsers (evidence/kbs.h), fuzzed by fuzz_kbs_messages (evidence.cmake).
cvm_fuzzer(fuzz_rp_policy ${CMAKE_CURRENT_LIST_DIR}/rp_policy_fuzz.cc cvm::rp_core)
cvm_fuzzer(fuzz_rp_config ${CMAKE_CURRENT_LIST_DIR}/rp_config_fuzz.cc cvm::rp_core)
