# libFuzzer targets for the evidence library (see fuzz/CMakeLists.txt for cvm_fuzzer).
# Seeds: the messages in docs/relying-party.md and tests/evidence/kbs_test.cc; a JWE from
# `cvmctl kbs` against cvm-rp.
cvm_fuzzer(fuzz_kbs_messages ${CMAKE_CURRENT_LIST_DIR}/kbs_messages_fuzz.cc cvm::evidence)
cvm_fuzzer(fuzz_jose_jwe ${CMAKE_CURRENT_LIST_DIR}/jose_jwe_fuzz.cc cvm::evidence)
cvm_fuzzer(fuzz_jwt ${CMAKE_CURRENT_LIST_DIR}/jwt_fuzz.cc cvm::evidence)
