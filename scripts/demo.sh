#!/usr/bin/env bash
# demo.sh: a full rehearsal of a quarterly KSK signing on private SoftHSM
# tokens, run by `make demo`.
#
#   1. a private token under .demo/ with its own SOFTHSM2_CONF (never the
#      system token store), PINs in mode-0600 files read by ksk as PIN
#      sources (file:PATH), so no PIN ever appears on a command line;
#   2. two KSKs (current and next) and three ZSKs (retiring, current, next,
#      as the root zone rolls them) generated inside the token,
#      sign-only and non-extractable;
#   3. the ZSK operator's side: a KSR for the quarter starting today;
#   4. the KSK operator's side: the KSR's hash as PGP words, its
#      validation, the signing into an SKR with the "normal" schema, the
#      SKR's verification against the KSR and the KSKs' DS records, and
#      its export in DNS presentation format;
#   5. IANA's real 2017 KSR and SKR checked against the root trust anchors.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
ksk="$root/bin/ksk"
[ -x "$ksk" ] || { echo "demo: $ksk missing; run make build" >&2; exit 2; }

module=${KSK_PKCS11_MODULE:-}
if [ -z "$module" ]; then
  for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so /usr/local/lib/softhsm/libsofthsm2.so; do
    [ -e "$m" ] && module=$m && break
  done
fi
[ -n "$module" ] || { echo "demo: SoftHSM2 module not found; run scripts/setup.sh" >&2; exit 3; }

demo="$root/.demo"
rm -rf "$demo"
mkdir -p "$demo/tokens" "$demo/state" "$demo/out"
chmod 700 "$demo"
cat > "$demo/softhsm2.conf" <<CONF
directories.tokendir = $demo/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
export SOFTHSM2_CONF="$demo/softhsm2.conf"
export KSK_STATE_DIR="$demo/state"

# Random PINs, written only to files readable by this user.
umask 077
head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$demo/user.pin"
head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$demo/so.pin"
export KSK_PKCS11_MODULE="$module" KSK_TOKEN=ksk-demo KSK_PIN_SOURCE="file:$demo/user.pin"
export KSK_SO_PIN_SOURCE="file:$demo/so.pin"
umask 022

out="$demo/out"
step() { printf '\n== %s\n' "$*"; }

step "Initialise a private rehearsal token (PINs read from files, never argv)"
"$ksk" hsm init-token --label ksk-demo
"$ksk" hsm info

step "Generate the KSKs (sign-only, non-extractable) and the ZSKs"
"$ksk" keys generate --label demo-ksk-current --algorithm RSASHA256 --bits 2048
"$ksk" keys generate --label demo-ksk-next --algorithm RSASHA256 --bits 2048 >/dev/null
for z in demo-zsk-1 demo-zsk-2 demo-zsk-3; do
  "$ksk" keys generate --label "$z" --algorithm RSASHA256 --bits 2048 --flags 256 >/dev/null
done
"$ksk" keys list

# The DS records of the KSKs: the rehearsal's trust anchors, and the key
# tags and digests the signer configuration pins.
"$ksk" keys ds --digest sha256 --label demo-ksk-current --out "$out/ksk-current.ds" >/dev/null
"$ksk" keys ds --digest sha256 --label demo-ksk-next --out "$out/ksk-next.ds" >/dev/null
cat "$out/ksk-current.ds" "$out/ksk-next.ds" > "$out/anchors.ds"
tag() { awk '$4 == "DS" {print $5}' "$1"; }
digest() { awk '$4 == "DS" {print $8}' "$1"; }

step "ZSK operator: create the KSR for the quarter starting today"
start=$(date -u +%Y-%m-%dT00:00:00Z)
"$ksk" ksr create --zsk demo-zsk-1 --zsk demo-zsk-2 --zsk demo-zsk-3 --start "$start" --out "$out/ksr.xml"

step "KSK operator: read the KSR's hash aloud"
"$ksk" hash "$out/ksr.xml"

step "Validate the KSR against the root zone policy"
"$ksk" ksr verify "$out/ksr.xml"

cat > "$out/signer.yaml" <<YAML
# Signer configuration of the demo rehearsal (written by scripts/demo.sh).
# The HSM comes from KSK_PKCS11_MODULE, KSK_TOKEN and KSK_PIN_SOURCE.
keys:
  ksk_current:
    label: demo-ksk-current
    algorithm: RSASHA256
    rsa_size: 2048
    rsa_exponent: 65537
    key_tag: $(tag "$out/ksk-current.ds")
    ds_sha256: $(digest "$out/ksk-current.ds")
    valid_from: 2020-01-01T00:00:00Z
  ksk_next:
    label: demo-ksk-next
    algorithm: RSASHA256
    rsa_size: 2048
    rsa_exponent: 65537
    key_tag: $(tag "$out/ksk-next.ds")
    ds_sha256: $(digest "$out/ksk-next.ds")
    valid_from: 2020-01-01T00:00:00Z
standard_schemas:
  current: ksk_current
  next: ksk_next
YAML

step "Sign the KSR into an SKR (schema normal)"
"$ksk" sign --config "$out/signer.yaml" --schema normal --ksr "$out/ksr.xml" --out "$out/skr.xml" --yes

step "Verify the SKR: every signature, the KSK chain to the DS anchors, and that it answers the KSR"
"$ksk" skr verify --ksr "$out/ksr.xml" --anchors "$out/anchors.ds" "$out/skr.xml"

step "Export the SKR for the zone's signer (DNS presentation format)"
"$ksk" skr export --format zone --out "$out/skr.zone" "$out/skr.xml"
head -n 4 "$out/skr.zone"

data="$root/testdata/iana-root"
step "IANA's real 2017 Q2 KSR, against the previous SKR"
"$ksk" ksr verify --at 2017-04-01T00:00:00Z \
  --previous-skr "$data/skr-root-2017-q1-0.xml" "$data/ksr-root-2017-q2-0.xml"

step "IANA's real 2017 Q2 SKR, against the KSR and the root trust anchors"
"$ksk" skr verify --at 2017-04-01T00:00:00Z --ksr "$data/ksr-root-2017-q2-0.xml" \
  --anchors "$root/testdata/root-anchors/root-anchors.xml" "$data/skr-root-2017-q2-0.xml"

step "Done"
cat <<DONE
KSR:          $out/ksr.xml
SKR:          $out/skr.xml
SKR (zone):   $out/skr.zone
Trust anchors (DS): $out/anchors.ds
Signer config: $out/signer.yaml
Tokens:       $demo/tokens (SOFTHSM2_CONF=$SOFTHSM2_CONF)
The ceremony around this signing (scripted steps, crypto officer quorum,
and the attestation log with its transcript and head) arrives with the
ceremony issue; ksk log verify/show already check such logs.
DONE
