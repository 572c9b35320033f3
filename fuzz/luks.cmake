# libFuzzer targets for the LUKS2 token and header checks (see fuzz/CMakeLists.txt for
# cvm_fuzzer). Seeds: tests/data/luks/*.json (a real header's metadata and a token).
cvm_fuzzer(fuzz_luks_token ${CMAKE_CURRENT_LIST_DIR}/luks_token_fuzz.cc cvm::luks)
cvm_fuzzer(fuzz_luks_header ${CMAKE_CURRENT_LIST_DIR}/luks_header_fuzz.cc cvm::luks)
