# Part 1: the three binaries.
step "The binaries"
run "$CVMCTL" --version
run "$CVM_BIN/agent/cvm-agentd" --version
run "$CVM_BIN/rp/cvm-rp" --version
run "$CVMCTL" --help
