# libFuzzer targets for the snp library (see fuzz/CMakeLists.txt for cvm_fuzzer).
