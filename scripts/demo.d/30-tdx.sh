# Part 3: Intel TDX. A simulated TDX platform (root CA -> PCK platform CA -> PCK leaf with SGX
# extensions, a quoting enclave, a TCB signing certificate) produces a DCAP quote for our nonce
# and PCCS-style collateral; we verify it with its TCB status, watch Intel's real root reject it,
# then verify a quote captured on a real Intel machine with its collateral at its date.
SIM=$DEMO_DIR/tdx-sim

step "TDX: create a simulated Intel platform"
run "$CVMCTL" sim init "$SIM" --tee tdx
run ls -l "$SIM"

step "TDX: get a v4 quote for a nonce (REPORTDATA) and collateral (TCB info, QE identity, CRLs)"
NONCE=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
run "$CVMCTL" sim quote "$SIM" --report-data "$NONCE" -o "$DEMO_DIR/tdx-quote.bin"
run "$CVMCTL" sim collateral "$SIM" -o "$DEMO_DIR/tdx-collateral.json"

step "TDX: decode the quote"
run "$CVMCTL" report show "$DEMO_DIR/tdx-quote.bin"

step "TDX: verify it with its collateral, trusting the simulated root with --root (TCB status shown)"
expect_exit 0 "$CVMCTL" verify "$DEMO_DIR/tdx-quote.bin" --collateral "$DEMO_DIR/tdx-collateral.json" \
  --root "$SIM/root.pem" --json

step "TDX: Intel's built-in root rejects the simulated quote (exit 1): it is not genuine Intel"
expect_exit 1 "$CVMCTL" verify "$DEMO_DIR/tdx-quote.bin" --collateral "$DEMO_DIR/tdx-collateral.json"

step "TDX: check expected values with a policy (our nonce, no debug, UpToDate only)"
cat > "$DEMO_DIR/tdx-policy.yaml" <<POLICY
tdx:
  report_data: ${NONCE}$(printf '0%.0s' $(seq 64))
  allow_debug: false
  accepted_tcb_statuses: [UpToDate]
POLICY
expect_exit 0 "$CVMCTL" verify "$DEMO_DIR/tdx-quote.bin" --collateral "$DEMO_DIR/tdx-collateral.json" \
  --root "$SIM/root.pem" --policy "$DEMO_DIR/tdx-policy.yaml"

step "TDX: a quote for another nonce violates the policy (exit 1)"
run "$CVMCTL" sim quote "$SIM" --report-data 00 -o "$DEMO_DIR/tdx-other.bin"
expect_exit 1 "$CVMCTL" verify "$DEMO_DIR/tdx-other.bin" --collateral "$DEMO_DIR/tdx-collateral.json" \
  --root "$SIM/root.pem" --policy "$DEMO_DIR/tdx-policy.yaml"

step "TDX: a real v4 quote verified with Intel's collateral at its date, to the built-in Intel root"
expect_exit 0 "$CVMCTL" verify "$VECTORS/tdx/v4-dcap/quote.bin" \
  --collateral "$VECTORS/tdx/v4-dcap/collateral.json" --at 2025-06-20T00:00:00Z --json

step "TDX: the same collateral a month later has expired (exit 1)"
expect_exit 1 "$CVMCTL" verify "$VECTORS/tdx/v4-dcap/quote.bin" \
  --collateral "$VECTORS/tdx/v4-dcap/collateral.json" --at 2025-08-01T00:00:00Z
