# libFuzzer targets for the tdx library (see fuzz/CMakeLists.txt for cvm_fuzzer).
