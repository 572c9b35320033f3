# Part 2: AMD SEV-SNP. A simulated SNP platform signs a report for our nonce; we decode it,
# verify it against the simulated root, watch AMD's real roots reject it, and verify a report
# captured on a real AMD Genoa machine with AMD's built-in roots.
SIM=$DEMO_DIR/snp-sim

step "SNP: create a simulated AMD platform (ARK -> ASK -> VCEK, shaped like AMD's; slow: RSA-4096)"
run "$CVMCTL" sim init "$SIM" --tee snp --product Genoa
run ls -l "$SIM"

step "SNP: get a report for a nonce (REPORT_DATA) with a chosen launch measurement"
NONCE=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
MEASUREMENT=$(printf 'ab%.0s' $(seq 48))
run "$CVMCTL" sim report "$SIM" --report-data "$NONCE" --measurement "$MEASUREMENT" \
  -o "$DEMO_DIR/snp-report.bin"

step "SNP: decode it (add --json for machine-readable output)"
run "$CVMCTL" report show "$DEMO_DIR/snp-report.bin"

step "SNP: verify it, trusting the simulated ARK explicitly with --root"
expect_exit 0 "$CVMCTL" verify "$DEMO_DIR/snp-report.bin" \
  --cert "$SIM/vcek.pem" --cert "$SIM/ask.pem" --root "$SIM/ark.pem"

step "SNP: the same report is rejected by AMD's built-in roots (exit 1): it is not genuine AMD"
expect_exit 1 "$CVMCTL" verify "$DEMO_DIR/snp-report.bin" --cert "$SIM/vcek.pem" --cert "$SIM/ask.pem"

step "SNP: check expected values with a policy (the nonce and measurement we chose)"
cat > "$DEMO_DIR/snp-policy.yaml" <<POLICY
measurements: [$MEASUREMENT]
report_data: ${NONCE}$(printf '0%.0s' $(seq 64))
vmpl: 0
POLICY
expect_exit 0 "$CVMCTL" verify "$DEMO_DIR/snp-report.bin" --cert "$SIM/vcek.pem" \
  --cert "$SIM/ask.pem" --root "$SIM/ark.pem" --policy "$DEMO_DIR/snp-policy.yaml"

step "SNP: a real report from an AMD Genoa machine, verified with AMD's built-in roots"
run "$CVMCTL" report show "$VECTORS/snp/genoa-v3/report.bin"
expect_exit 0 "$CVMCTL" verify "$VECTORS/snp/genoa-v3/report.bin" \
  --cert "$VECTORS/snp/genoa-v3/vcek.pem" --at 2026-06-01T00:00:00Z

step "SNP: one flipped bit in the real report and it is rejected (exit 1)"
cp "$VECTORS/snp/genoa-v3/report.bin" "$DEMO_DIR/tampered.bin"
chmod u+w "$DEMO_DIR/tampered.bin"
printf '\xff' | dd of="$DEMO_DIR/tampered.bin" bs=1 seek=$((0x90)) conv=notrunc status=none
expect_exit 1 "$CVMCTL" verify "$DEMO_DIR/tampered.bin" \
  --cert "$VECTORS/snp/genoa-v3/vcek.pem" --at 2026-06-01T00:00:00Z
