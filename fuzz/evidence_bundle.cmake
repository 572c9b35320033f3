# libFuzzer targets for the evidence library's bundle and Trustee evidence parsers (see
# fuzz/CMakeLists.txt for cvm_fuzzer). Seeds: tests/data/vectors/trustee/*.json (Trustee
# evidence) and bundles written by `Collect` (e.g. from tests/evidence/collect_test.cc).
cvm_fuzzer(fuzz_evidence_bundle ${CMAKE_CURRENT_LIST_DIR}/evidence_bundle_fuzz.cc cvm::evidence)
cvm_fuzzer(fuzz_evidence_trustee ${CMAKE_CURRENT_LIST_DIR}/evidence_trustee_fuzz.cc
  cvm::evidence)
# Seed: config/init-data.example.toml.
cvm_fuzzer(fuzz_evidence_init_data ${CMAKE_CURRENT_LIST_DIR}/evidence_init_data_fuzz.cc
  cvm::evidence)
