# libFuzzer targets for the tpm library (see fuzz/CMakeLists.txt for cvm_fuzzer).
