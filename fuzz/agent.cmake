# libFuzzer targets for the agent (see fuzz/CMakeLists.txt for cvm_fuzzer).
# Seeds: config/*.yaml and config/examples/*.yaml for the configuration parser.
cvm_fuzzer(fuzz_agent_config ${CMAKE_CURRENT_LIST_DIR}/agent_config_fuzz.cc cvm::agent_core)
cvm_fuzzer(fuzz_agent_request ${CMAKE_CURRENT_LIST_DIR}/agent_request_fuzz.cc cvm::agent_core)
