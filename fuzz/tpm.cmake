# libFuzzer targets for the tpm library (see fuzz/CMakeLists.txt for cvm_fuzzer).
# Seeds: tests/data/vectors/snp/azure-vtpm/ (HCL report, TPM quote JSON; the quote's "message"
# hex-decoded is a TPMS_ATTEST).
cvm_fuzzer(fuzz_tpm_attest ${CMAKE_CURRENT_LIST_DIR}/tpm_attest_fuzz.cc cvm::tpm)
cvm_fuzzer(fuzz_tpm_hcl ${CMAKE_CURRENT_LIST_DIR}/tpm_hcl_fuzz.cc cvm::tpm)
cvm_fuzzer(fuzz_tpm_pcr ${CMAKE_CURRENT_LIST_DIR}/tpm_pcr_fuzz.cc cvm::tpm)
