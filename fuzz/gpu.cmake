# libFuzzer targets for the gpu library (see fuzz/CMakeLists.txt for cvm_fuzzer).
# Seeds: tests/data/vectors/nvidia-gpu/ (hex reports: decode them first; evidence JSON; RIMs).
cvm_fuzzer(fuzz_gpu_report ${CMAKE_CURRENT_LIST_DIR}/gpu_report_fuzz.cc cvm::gpu)
cvm_fuzzer(fuzz_gpu_opaque ${CMAKE_CURRENT_LIST_DIR}/gpu_opaque_fuzz.cc cvm::gpu)
cvm_fuzzer(fuzz_gpu_evidence_json ${CMAKE_CURRENT_LIST_DIR}/gpu_evidence_json_fuzz.cc cvm::gpu)
cvm_fuzzer(fuzz_gpu_rim ${CMAKE_CURRENT_LIST_DIR}/gpu_rim_fuzz.cc cvm::gpu)
cvm_fuzzer(fuzz_gpu_ocsp ${CMAKE_CURRENT_LIST_DIR}/gpu_ocsp_fuzz.cc cvm::gpu)
