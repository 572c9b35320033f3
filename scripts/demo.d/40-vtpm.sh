# Part 4: the vTPM. A real TPM 2.0 simulator (swtpm) on a free loopback port: a quote for a
# nonce, verified by cvmctl and by tpm2-tools; a real event log replayed; Azure's vTPM evidence.
step "vTPM: start swtpm on a free loopback port"
start_swtpm "$DEMO_DIR/swtpm"
swtpm_pid=$SWTPM_PID
port=$SWTPM_PORT
trap 'kill "$swtpm_pid" 2>/dev/null; wait "$swtpm_pid" 2>/dev/null || true' EXIT
tcti="swtpm:host=127.0.0.1,port=$port"
echo "swtpm (pid $swtpm_pid) listening at $tcti"

step "vTPM: PCR values"
run "$CVMCTL" tpm pcrs --tcti "$tcti" --pcrs sha256:0-7

step "vTPM: a quote for a fresh nonce (ECDSA P-256 AK under the endorsement hierarchy)"
nonce=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
run "$CVMCTL" tpm quote --tcti "$tcti" --nonce "$nonce" --pcrs sha256:0,1,7 \
  --out-dir "$DEMO_DIR/quote"
run ls "$DEMO_DIR/quote"

step "vTPM: verify the quote with cvmctl, then with tpm2-tools"
expect_exit 0 "$CVMCTL" tpm verify "$DEMO_DIR/quote" --nonce "$nonce"
expect_exit 0 tpm2_checkquote -u "$DEMO_DIR/quote/ak.pub.pem" -m "$DEMO_DIR/quote/quote.msg" \
  -s "$DEMO_DIR/quote/quote.sig" -q "$nonce"

step "vTPM: a quote is rejected for another nonce (a replay)"
expect_exit 1 "$CVMCTL" tpm verify "$DEMO_DIR/quote" --nonce 00

step "vTPM: replay a real measured-boot event log (RHEL 8 on GCE)"
run "$CVMCTL" eventlog replay "$VECTORS/tpm/rhel8-uefi.bin" --json >"$DEMO_DIR/replayed.json"
head -n 14 "$DEMO_DIR/replayed.json"
echo "..."

step "vTPM: Azure CVM evidence: HCL report (SNP report + runtime claims) and TPM quote"
expect_exit 0 "$CVMCTL" verify "$VECTORS/snp/azure-vtpm/hcl-report.bin" \
  --cert "$VECTORS/snp/azure-vtpm/vcek_ask_ark.pem" \
  --tpm-quote "$VECTORS/snp/azure-vtpm/tpm-quote-v1.json"

step "vTPM: stop swtpm"
kill "$swtpm_pid"
wait "$swtpm_pid" 2>/dev/null || true
trap - EXIT
echo "swtpm stopped"
