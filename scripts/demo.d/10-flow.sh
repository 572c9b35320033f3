# Part 1: the whole product on one machine. A simulated confidential VM ($CVM_DEMO_TEE, with a
# real TPM 2.0 simulator as its vTPM) boots cvm-agentd, which attests to cvm-rp over pinned HTTPS
# and receives a disk key and a runtime secret; the disk opens through the LUKS2 token plugin and
# through the keyfile socket; a second VM with another measurement is denied.
TEE=${CVM_DEMO_TEE:-sim-snp}
W=$DEMO_DIR/flow
mkdir -p "$W/vm1" "$W/vm2"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
# The status answer, as cvmctl prints it, until its state is one of $1 (a regex).
wait_state() {
  local want=$1 sock=$2 state=""
  for _ in $(seq 1 300); do
    state=$("$CVMCTL" status --socket "$sock" --json 2>/dev/null | jq -r .state || true)
    [[ $state =~ ^($want)$ ]] && return 0
    sleep 0.1
  done
  echo "demo: the agent stayed in state '$state' (wanted $want)" >&2; return 1
}

case $TEE in
  sim-snp) kind=snp ;;
  sim-tdx) kind=tdx ;;
  *) echo "demo: --tee must be sim-snp or sim-tdx, not '$TEE'" >&2; exit 2 ;;
esac

step "Flow ($TEE): the VM's identity: a simulated $kind platform whose keys chain to a generated root shaped like the vendor's"
run "$CVMCTL" sim init "$W/sim" --tee "$kind"
if [ "$kind" = tdx ]; then
  # Trustee's TDX evidence carries no collateral: the relying party gets the platform's from
  # a file (a real deployment fetches it from Intel PCS or a PCCS).
  run "$CVMCTL" sim collateral "$W/sim" -o "$W/sim/collateral.json"
fi
# What the simulated firmware measures by default (docs/configuration.md sim.measurement).
if [ "$kind" = snp ]; then
  good=$(printf '0%.0s' $(seq 96)); field=snp_measurements; root=ark.pem
else
  good=$(printf 'cvm-agent simulated TD' | sha384sum | cut -d' ' -f1); field=mrtd; root=root.pem
fi
bad=$(printf 'ba%.0s' $(seq 48))

step "Flow: the relying party's secrets: a 32-byte disk key and a runtime secret"
mkdir -p "$W/rp/resources/default/luks" "$W/rp/resources/default/app"
head -c 32 /dev/urandom > "$W/rp/resources/default/luks/data"
printf 'postgres://app:%s@db/app' "$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" \
  > "$W/rp/resources/default/app/db-url"
run ls -l "$W/rp/resources/default/luks" "$W/rp/resources/default/app"

step "Flow: a LUKS2 data volume (a file here), so far with only a recovery passphrase"
head -c 24 /dev/urandom | base64 > "$W/recovery.txt"
truncate -s 32M "$W/data.img"
run cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
  --key-file "$W/recovery.txt" "$W/data.img"
uuid=$(cryptsetup luksUUID "$W/data.img")
echo "volume UUID $uuid: the agent's configuration names it, so no other volume gets this key"

step "Flow: cvm-rp's policy accepts exactly this VM's $field (and the simulated root, by name)"
cat > "$W/rp/policy.yaml" <<EOF
version: 1
default:
  tee: [$kind]
  allow_simulated: true
  allow_debug: false
  max_evidence_age: 5m
  $field: ["$good"]
EOF
run cat "$W/rp/policy.yaml"

step "Flow: an HTTPS certificate for cvm-rp on 127.0.0.1; the agent pins its key (SHA-256 of the SPKI)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$W/rp/tls.key" -out "$W/rp/tls.crt" 2>/dev/null
pin=$(openssl x509 -in "$W/rp/tls.crt" -pubkey -noout | openssl pkey -pubin -outform DER |
  sha256sum | cut -d' ' -f1)
echo "pin_sha256: $pin"

step "Flow: start cvm-rp (HTTPS, loopback)"
tdx_collateral=""
[ "$kind" = tdx ] && tdx_collateral="  tdx_collateral: ../sim/collateral.json"
cat > "$W/rp/cvm-rp.yaml" <<EOF
listen:
  - {address: 127.0.0.1, port: 0, tls: true}
tls: {cert: tls.crt, key: tls.key}
token_key: token.key
policy: policy.yaml
resources:
  dir: resources
audit_log: audit.log
diagnostic_header: true
trust_anchors:
  ${kind}_roots: [../sim/$root]
$tdx_collateral
EOF
"$CVM_BIN/rp/cvm-rp" --config "$W/rp/cvm-rp.yaml" > "$W/rp/cvm-rp.log" 2>&1 &
pids+=($!)
# Port 0: the kernel picks a free port, which cvm-rp says in its log.
for _ in $(seq 1 400); do
  rp_port=$(sed -n 's|.*serving the KBS protocol on https://127.0.0.1:\([0-9]*\)/.*|\1|p' \
    "$W/rp/cvm-rp.log")
  [ -n "$rp_port" ] && break
  kill -0 "${pids[-1]}" 2>/dev/null || { cat "$W/rp/cvm-rp.log"; echo "demo: cvm-rp exited" >&2; exit 1; }
  sleep 0.05
done
[ -n "$rp_port" ] || { echo "demo: cvm-rp did not start" >&2; exit 1; }
run cat "$W/rp/cvm-rp.log"
openssl pkey -in "$W/rp/token.key" -pubout -out "$W/rp/token.pub"

step "Flow: start swtpm, the VM's vTPM (a real TPM 2.0 simulator)"
start_swtpm "$W/swtpm"
pids+=("$SWTPM_PID")
tpm_port=$SWTPM_PORT
echo "swtpm on 127.0.0.1:$tpm_port"

# One agent configuration; the second VM differs only in its measurement and directory.
agent_config() {  # DIR [MEASUREMENT]
  local d=$1
  mkdir -p "$d/run" "$d/secrets" "$d/keys"
  cat <<EOF
tee: $TEE
sim:
  state_dir: $W/sim
${2:+  measurement: $2}
tpm:
  enabled: true
  tcti: "swtpm:host=127.0.0.1,port=$tpm_port"
  event_log: ""
relying_parties:
  - url: https://127.0.0.1:$rp_port
    ca_file: $W/rp/tls.crt
    pin_sha256: $pin
    token_key: $W/rp/token.pub
timeouts: {connect: 2s, request: 10s, deadline: 20s, backoff_initial: 500ms, backoff_max: 2s}
resources:
  - name: data-disk
    path: default/luks/data
    sinks:
      cryptsetup: {volume: data, uuid: $uuid}
  - name: db-url
    path: default/app/db-url
    sinks:
      file: {mode: "0600"}
      credential: {units: [app.service]}
api:
  socket: $d/run/api.sock
paths:
  secrets_dir: $d/secrets
  credentials_socket: $d/run/credentials.sock
  cryptsetup_socket: $d/run/cryptsetup.sock
  cryptsetup_keys_dir: $d/keys
EOF
}

step "Flow: the agent's one configuration file"
agent_config "$W/vm1" > "$W/vm1/config.yaml"
run cat "$W/vm1/config.yaml"

step "Flow: boot: cvm-agentd attests (evidence: the $kind report + the vTPM quote) and receives its secrets"
"$CVM_BIN/agent/cvm-agentd" --config "$W/vm1/config.yaml" > "$W/vm1/agent.log" 2>&1 &
agent_pid=$!
pids+=($agent_pid)
sock=$W/vm1/run/api.sock
for _ in $(seq 1 100); do [ -S "$sock" ] && break; sleep 0.05; done
run "$CVMCTL" status --socket "$sock"
wait_state ready "$sock"
run "$CVMCTL" status --socket "$sock"
run cat "$W/vm1/agent.log"

step "Flow: the runtime secret is a file of mode 0600 under /run (here: $W/vm1/secrets)"
run stat -c '%A %U %n' "$W/vm1/secrets/db-url"
[ "$(stat -c %a "$W/vm1/secrets/db-url")" = 600 ] || { echo "demo: wrong mode" >&2; exit 1; }
cmp "$W/vm1/secrets/db-url" "$W/rp/resources/default/app/db-url"
echo "content matches what cvm-rp holds"

# A client of a unix socket that connects from an abstract address, as systemd does for
# LoadCredential= (\0<random>/unit/<unit>/<name>) and systemd-cryptsetup for a key file
# (\0<random>/cryptsetup/<volume>), and prints what the agent answers.
socket_client() {  # SOCKET PEER-SUFFIX
  python3 - "$1" "$2" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(b"\0" + os.urandom(8).hex().encode() + sys.argv[2].encode())
s.connect(sys.argv[1])
data = b""
while chunk := s.recv(4096):
    data += chunk
sys.stdout.buffer.write(data)
PY
}

step "Flow: app.service's LoadCredential= gets its secret from the credentials socket; another unit gets nothing"
socket_client "$W/vm1/run/credentials.sock" /unit/app.service/db-url > "$W/cred"
cmp "$W/cred" "$W/rp/resources/default/app/db-url"
echo "app.service received $(wc -c < "$W/cred") bytes, identical to the secret"
socket_client "$W/vm1/run/credentials.sock" /unit/other.service/db-url > "$W/cred-other"
[ ! -s "$W/cred-other" ] || { echo "demo: another unit got the secret" >&2; exit 1; }
echo "other.service received 0 bytes"

step "Flow: bind the volume: a keyslot for the key the relying party released, and a cvm token"
run "$CVMCTL" luks bind "$W/data.img" --resource data-disk --key-file "$W/recovery.txt" \
  --pbkdf-force-iterations 1000 --socket "$sock"
run "$CVMCTL" luks show "$W/data.img"

step "Flow: cryptsetup opens the volume through the token plugin (no key on any disk)"
# libcryptsetup loads token plugins only from its own folder: a private mount namespace puts
# this build's plugin there without touching the system's.
plugin_dir=$CVM_BIN/luks/token-plugin
preload=""
# (Not `ldd | grep -q`: with pipefail, grep's early exit can fail ldd with SIGPIPE.)
if [[ $(ldd "$plugin_dir/libcryptsetup-token-cvm.so") == *libasan* ]]; then
  preload="LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0"
fi
token_open() {  # IMAGE SOCKET
  unshare --mount --propagation private /bin/sh -c \
    "mount --bind '$plugin_dir' /usr/lib/x86_64-linux-gnu/cryptsetup &&
     exec env CVM_AGENT_SOCKET='$2' $preload cryptsetup open --test-passphrase --token-only -v '$1'"
}
printf '$ cryptsetup open --test-passphrase --token-only %s\n' "$W/data.img"
token_open "$W/data.img" "$sock"
if [ -e /dev/mapper/control ] && dmsetup version > /dev/null 2>&1; then
  step "Flow: device-mapper is available: a real open and mount"
  unshare --mount --propagation private /bin/sh -c \
    "mount --bind '$plugin_dir' /usr/lib/x86_64-linux-gnu/cryptsetup &&
     env CVM_AGENT_SOCKET='$sock' $preload cryptsetup open --token-only '$W/data.img' cvm-demo-data &&
     mkfs.ext4 -q /dev/mapper/cvm-demo-data && mkdir -p '$W/mnt' &&
     mount /dev/mapper/cvm-demo-data '$W/mnt' && df -h '$W/mnt' && umount '$W/mnt' &&
     cryptsetup close cvm-demo-data"
fi

step "Flow: the header is the host's to change: switched to cipher_null, the plugin refuses it"
cp "$W/data.img" "$W/tampered.img"
# cryptsetup itself refuses cipher_null in LUKS2, so a host edits the header: the segment's
# cipher in both JSON copies, then each copy's SHA-256 checksum (offset 448, over hdr_size bytes
# with the field zeroed), as the LUKS2 on-disk format defines it.
python3 - "$W/tampered.img" <<'PY'
import hashlib, sys
path = sys.argv[1]
b = bytearray(open(path, "rb").read())
size = int.from_bytes(b[8:16], "big")
for base in (0, size):
    area = bytes(b[base:base + size])
    at = area.find(b'"encryption":"aes-xts-plain64"', area.find(b'"segments"'))
    assert at > 0, "no aes-xts-plain64 segment"
    b[base + at:base + at + 30] = b'"encryption":"cipher_null-ecb"'
    b[base + 448:base + 512] = bytes(64)
    b[base + 448:base + 480] = hashlib.sha256(bytes(b[base:base + size])).digest()
open(path, "wb").write(b)
PY
cryptsetup luksDump --dump-json-metadata "$W/tampered.img" | jq -c .segments
set +e; token_open "$W/tampered.img" "$sock"; code=$?; set -e
[ "$code" -ne 0 ] || { echo "demo: the plugin opened a cipher_null volume" >&2; exit 1; }
echo "(refused, exit $code: no key was handed over)"
expect_exit 1 "$CVMCTL" luks show "$W/tampered.img"

step "Flow: systemd-cryptsetup's key request on the cryptsetup socket opens the volume"
socket_client "$W/vm1/run/cryptsetup.sock" /cryptsetup/data > "$W/disk.key"
expect_exit 0 cryptsetup open --test-passphrase --key-file "$W/disk.key" "$W/data.img"
rm -f "$W/disk.key"

step "Flow: fresh evidence for a relying party's nonce, verified offline with cvmctl verify"
nonce=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
run "$CVMCTL" evidence --socket "$sock" --nonce "$nonce" -o "$W/bundle.json"
expect_exit 0 "$CVMCTL" verify "$W/bundle.json" --root "$W/sim/$root" --nonce "$nonce"
step "Flow: the same evidence presented for another nonce (a replay) is rejected"
expect_exit 1 "$CVMCTL" verify "$W/bundle.json" --root "$W/sim/$root" --nonce "00$nonce"

step "Flow: the boot-attestation timing per phase"
"$CVMCTL" status --socket "$sock" --json | jq -r '.phases[] | "\(.phase)\t\(.ms) ms"'

step "Flow: a second VM whose measurement the policy does not accept: denied with the reason, no key"
agent_config "$W/vm2" "$bad" | sed 's/deadline: 20s/deadline: 4s/' > "$W/vm2/config.yaml"
printf '$ cvm-agentd --config vm2/config.yaml   (sim.measurement: %s...)\n' "${bad:0:16}"
set +e
"$CVM_BIN/agent/cvm-agentd" --config "$W/vm2/config.yaml" > "$W/vm2/agent.log" 2>&1
code=$?
set -e
cat "$W/vm2/agent.log"
[ "$code" -eq 1 ] || { echo "demo: the second VM's agent exited $code, expected 1" >&2; exit 1; }
grep -q "relying party.s reason: policy default: \(measurement\|MRTD\) $bad is not accepted" "$W/vm2/agent.log" ||
  { echo "demo: the refusal does not say why" >&2; exit 1; }
[ -z "$(ls -A "$W/vm2/secrets")" ] || { echo "demo: the denied VM got a secret" >&2; exit 1; }
echo "(exit 1: the denied VM got nothing; $W/vm2/secrets is empty)"
echo "cvm-rp's audit log says:"
tail -n 2 "$W/rp/audit.log"

step "Flow: stop the agent: it exits 0"
kill -TERM "$agent_pid"
set +e; wait "$agent_pid"; code=$?; set -e
[ "$code" -eq 0 ] || { echo "demo: cvm-agentd exited $code on SIGTERM" >&2; exit 1; }
echo "cvm-agentd exited 0"
