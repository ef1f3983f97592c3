#!/usr/bin/env bash
# demo.sh: a rehearsal on private SoftHSM tokens, run by `make demo`.
#
# It creates a token under .demo/ with its own SOFTHSM2_CONF (never the
# system token store), generates KSKs of each algorithm, lists them with
# their DS records, and verifies IANA's real root zone KSR and SKR files.
# The PIN lives in a mode-0600 file and reaches ksk as a PIN source
# (file:PATH): it never appears on a command line.
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

step() { printf '\n== %s\n' "$*"; }

step "Initialise a private rehearsal token (PINs read from files, never argv)"
"$ksk" hsm init-token --label ksk-demo

step "HSM"
"$ksk" hsm info

step "Generate KSKs (sign-only, non-extractable)"
"$ksk" keys generate --label demo-ksk-rsa --algorithm RSASHA256 --bits 2048
"$ksk" keys generate --label demo-ksk-p256 --algorithm ECDSAP256SHA256
"$ksk" keys generate --label demo-ksk-ed25519 --algorithm ED25519

step "Inventory"
"$ksk" keys list

step "DS of the RSA KSK"
"$ksk" keys ds --label demo-ksk-rsa | tee "$demo/out/demo-ksk-rsa.ds"

data="$root/testdata/iana-root"
step "KSR hash, to be read aloud"
"$ksk" hash "$data/ksr-root-2017-q2-0.xml"

step "Verify IANA's KSR for 2017 Q2 against the previous SKR"
"$ksk" ksr verify --at 2017-04-01T00:00:00Z \
  --previous-skr "$data/skr-root-2017-q1-0.xml" "$data/ksr-root-2017-q2-0.xml"

step "Verify IANA's SKR for 2017 Q2 against the KSR and the root trust anchors"
"$ksk" skr verify --at 2017-04-01T00:00:00Z --ksr "$data/ksr-root-2017-q2-0.xml" \
  --anchors "$root/testdata/root-anchors/root-anchors.xml" "$data/skr-root-2017-q2-0.xml"

step "Done"
cat <<DONE
Tokens:      $demo/tokens (SOFTHSM2_CONF=$SOFTHSM2_CONF)
DS record:   $demo/out/demo-ksk-rsa.ds
Not yet in this rehearsal: signing the KSR into an SKR (ksk sign) and the
ceremony's attestation log and transcript; they arrive with the signing and
ceremony issues.
DONE
