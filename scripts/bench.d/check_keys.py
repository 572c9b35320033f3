#!/usr/bin/env python3
"""Reads `scripts/bench --json` output on stdin and checks that every figure is present and
positive. No ratio or target is asserted: timing belongs to the benchmarks, not to tests."""
import json
import sys

KEYS = [
    "snp_verify_per_s", "openssl_p384_verify_per_s", "tdx_verify_per_s",
    "openssl_p256_verify_per_s", "snp_full_verify_per_s", "snp_full_bound_per_s",
    "tdx_full_verify_per_s", "tdx_full_bound_per_s", "eventlog_replay_mb_per_s",
    "sha256_mb_per_s", "status_api_req_per_s", "evidence_api_req_per_s", "evidence_api_p99_ms",
    "sim_sign_per_s", "rp_attest_per_s", "bundle_verify_per_s", "boot_to_secret_ms",
    "agent_own_ms", "agentd_rss_idle_kib", "agentd_rss_load_kib", "snp_full_parse_floor_per_s",
    "tdx_full_parse_floor_per_s", "eventlog_hash_floor_mb_per_s", "gpu_list_verify_per_s",
    "gpu_eight_p384_per_s", "agent_cpu_to_secret_ms", "agent_helper_cpu_ms", "bundle_verify_per_cpu_s",
    "rp_attest_per_cpu_s", "rp_cpu_ms_per_exchange", "rp_client_cpu_ms_per_exchange", "rp_attest_tls_per_s",
    "rp_attest_tls_per_cpu_s", "rp_tls_cpu_ms_per_exchange", "rp_tls_client_cpu_ms_per_exchange",
    "rp_service_exchange_per_cpu_s",
]


def main():
    r = json.load(sys.stdin)
    bad = [k for k in KEYS if not isinstance(r.get(k), (int, float)) or r[k] <= 0]
    # agent_own_ms may round to 0 only if everything else is waiting; it is still required.
    if bad:
        print(f"missing or not positive: {bad}", file=sys.stderr)
        return 1
    if not isinstance(r.get("secrets_on_tmpfs"), bool):
        print("no secrets_on_tmpfs", file=sys.stderr)
        return 1
    if not r.get("boot_phases_ms") or not r.get("targets"):
        print("no boot phases or targets", file=sys.stderr)
        return 1
    if r.get("errors"):
        print(f"errors: {r['errors']}", file=sys.stderr)
        return 1
    print(f"{len(KEYS)} figures present and positive")
    return 0


if __name__ == "__main__":
    sys.exit(main())
