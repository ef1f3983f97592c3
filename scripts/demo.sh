#!/usr/bin/env bash
# demo.sh: a full rehearsal of a KSK operator's ceremonies on private
# SoftHSM tokens, run by `make demo`:
#
#   1. the key generation ceremony (scripts/ceremonies/key-generation.yaml):
#      a new token whose user PIN no one ever sees, split 3-of-7 among the
#      crypto officers' credentials; the quorum activates the token; the
#      KSK and the ceremony attestation key are generated inside it;
#   2. the ZSK operator's side, on its own token: ZSKs and the KSR for the
#      quarter starting today;
#   3. the quarterly key signing ceremony
#      (scripts/ceremonies/quarterly-signing.yaml): attendance signed by
#      the witnesses' SSH keys, HSM activation by 3 of the 7 credentials,
#      the KSR validated and its hash matched as PGP words, the SKR signed,
#      trust anchors exported (RFC 9718), both copied to the output media,
#      the witnesses' sign-off, and the log sealed
#      by the attestation key in the HSM;
#   4. the SKR verified against the KSR and the new KSK's DS, and both
#      attestation logs verified;
#   5. IANA's real 2017 KSR and SKR checked against the root trust anchors.
#
# Every operator input comes from an answers file (rehearsal mode);
# passphrases and PINs are in mode-0600 files, never on a command line.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
ksk="$root/bin/ksk"
[ -x "$ksk" ] || { echo "demo: $ksk missing; run make build" >&2; exit 2; }
command -v ssh-keygen >/dev/null || { echo "demo: ssh-keygen missing; run scripts/setup.sh (package openssh-client)" >&2; exit 3; }

module=${KSK_PKCS11_MODULE:-}
if [ -z "$module" ]; then
  for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so /usr/local/lib/softhsm/libsofthsm2.so; do
    [ -e "$m" ] && module=$m && break
  done
fi
[ -n "$module" ] || { echo "demo: SoftHSM2 module not found; run scripts/setup.sh" >&2; exit 3; }

demo="$root/.demo"
rm -rf "$demo"
mkdir -p "$demo/tokens"
mkdir -p -m 700 "$demo/state"; chmod 700 "$demo/state"  # the failed-login counter: the user's own, mode 0700
chmod 700 "$demo"
cat > "$demo/softhsm2.conf" <<CONF
directories.tokendir = $demo/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
export SOFTHSM2_CONF="$demo/softhsm2.conf"
export KSK_STATE_DIR="$demo/state"
export KSK_PKCS11_MODULE="$module"
step() { printf '\n== %s\n' "$*"; }
rand() { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# The ceremony room: rosters, the witnesses' SSH keys, and the secrets of
# the rehearsal (each in a file only this user can read).
work="$demo/work"
mkdir -p "$work/witnesses" "$work/secrets" "$work/out"
umask 077
rand > "$work/secrets/so.pin"
for i in 1 2 3 4 5 6 7; do rand > "$work/secrets/co$i.pass"; done
for w in tcr1 tcr2 ew1; do ssh-keygen -q -t ed25519 -N '' -C "$w" -f "$work/witnesses/$w"; done
umask 022
{
  echo "id: kmf-east-co"; echo "m: 3"; echo "n: 7"; echo "holders:"
  for i in 1 2 3 4 5 6 7; do echo "  - {name: co$i, role: crypto-officer, passphrase_source: prompt}"; done
} > "$work/roster-co.yaml"
{
  echo "id: kmf-east-rksh"; echo "m: 5"; echo "n: 7"; echo "holders:"
  for i in 1 2 3 4 5 6 7; do echo "  - {name: rksh$i, role: recovery-key-share-holder, passphrase_source: prompt}"; done
} > "$work/roster-rksh.yaml"
for w in tcr1 tcr2 ew1; do echo "$w $(cat "$work/witnesses/$w.pub")"; done > "$work/allowed_signers"
witness_keys='{tcr1: witnesses/tcr1, tcr2: witnesses/tcr2, ew1: witnesses/ew1}'
cat > "$work/keygen-answers.yaml" <<YAML
# Answers of the key generation rehearsal (written by scripts/demo.sh).
format: ksk-answers-v1
confirm_all: true
steps:
  act1.attendance: {ssh_keys: $witness_keys}
  act3.init-token: {so_pin_file: secrets/so.pin}
  act3.issue-credentials:
    passphrase_files: {co1: secrets/co1.pass, co2: secrets/co2.pass, co3: secrets/co3.pass, co4: secrets/co4.pass, co5: secrets/co5.pass, co6: secrets/co6.pass, co7: secrets/co7.pass}
  act4.present-credentials:
    credentials:
      - {file: credentials/kmf-east-co.co2.age, passphrase_file: secrets/co2.pass}
      - {file: credentials/kmf-east-co.co4.age, passphrase_file: secrets/co4.pass}
      - {file: credentials/kmf-east-co.co7.age, passphrase_file: secrets/co7.pass}
  act6.sign-off: {ssh_keys: $witness_keys}
YAML

today=$(date -u +%Y-%m-%d)
keygen="$root/scripts/ceremonies/key-generation.yaml"
step "Key generation ceremony: check the script (no HSM touched)"
"$ksk" ceremony check "$keygen" --dir "$work" --param date="$today" | tail -n 12

step "Key generation ceremony: run it (rehearsal, answers from $work/keygen-answers.yaml)"
"$ksk" ceremony run "$keygen" --dir "$work" --param date="$today" --log "$work/keygen.log" \
  --answers "$work/keygen-answers.yaml" --transcript "$work/keygen-transcript.txt" --scrypt-work-factor 15 > "$work/keygen-run.txt"
tail -n 8 "$work/keygen-run.txt"
"$ksk" log verify --attestation-key "$work/media/ksk-attestation.pem" "$work/keygen.log"

# The new KSK's key tag and DS, from the ceremony's output medium.
kskfile="$work/media/ksk-2026.dnskey-ds"
ksk_tag=$(awk '$4 == "DS" {print $5}' "$kskfile")
ksk_ds=$(awk '$4 == "DS" {print $8}' "$kskfile")
grep -P '\tDS\t' "$kskfile" > "$work/out/anchors.ds"

step "ZSK operator: its own token, three ZSKs, and the KSR for the quarter starting today"
umask 077
rand > "$demo/zsk-user.pin"; rand > "$demo/zsk-so.pin"
umask 022
KSK_SO_PIN_SOURCE="file:$demo/zsk-so.pin" KSK_PIN_SOURCE="file:$demo/zsk-user.pin" "$ksk" hsm init-token --label zsk-demo
for z in demo-zsk-1 demo-zsk-2 demo-zsk-3; do
  KSK_TOKEN=zsk-demo KSK_PIN_SOURCE="file:$demo/zsk-user.pin" "$ksk" keys generate --label "$z" --algorithm RSASHA256 --bits 2048 --flags 256 >/dev/null
done
start=$(date -u +%Y-%m-%dT00:00:00Z)
KSK_TOKEN=zsk-demo KSK_PIN_SOURCE="file:$demo/zsk-user.pin" "$ksk" ksr create --zsk demo-zsk-1 --zsk demo-zsk-2 --zsk demo-zsk-3 --start "$start" --out "$work/ksr.xml"
"$ksk" hash "$work/ksr.xml"
words=$("$ksk" hash "$work/ksr.xml" | awk -F': ' '/^PGP Words/ {print $2}' | awk '{print $(NF-3), $(NF-2), $(NF-1), $NF}')

{
  echo "# Signer configuration of the demo rehearsal (written by scripts/demo.sh)."
  echo "# The ceremony chooses the HSM; the key is pinned by key tag and DS."
  echo "keys:"
  echo "  ksk:"
  echo "    label: ksk-2026"
  echo "    algorithm: RSASHA256"
  echo "    rsa_size: 2048"
  echo "    rsa_exponent: 65537"
  echo "    key_tag: $ksk_tag"
  echo "    ds_sha256: $ksk_ds"
  echo "    valid_from: 2020-01-01T00:00:00Z"
  echo "schemas:"
  echo "  normal:"
  for i in 1 2 3 4 5 6 7 8 9; do echo "    $i: {publish: ksk, sign: ksk}"; done
} > "$work/signer.yaml"

cat > "$work/quarterly-answers.yaml" <<YAML
# Answers of the quarterly signing rehearsal (written by scripts/demo.sh).
format: ksk-answers-v1
confirm_all: true
steps:
  act1.attendance: {ssh_keys: $witness_keys}
  act2.equipment-safe: {values: {hsm_bag: "BB46610101", laptop_bag: "BB46610102"}}
  act3.present-credentials:
    credentials:
      - {file: credentials/kmf-east-co.co1.age, passphrase_file: secrets/co1.pass}
      - {file: credentials/kmf-east-co.co3.age, passphrase_file: secrets/co3.pass}
      - {file: credentials/kmf-east-co.co6.age, passphrase_file: secrets/co6.pass}
  act4.ksr-hash: {words: "$words"}
  act5.return-equipment: {values: {hsm_bag: "BB46610201", laptop_bag: "BB46610202"}}
  act5.sign-off: {ssh_keys: $witness_keys}
YAML

# With a Rekor server at hand (KSK_REKOR_URL and KSK_REKOR_KEY, as
# scripts/rekor.sh start prints them; .ci/run does so), the ceremony also
# anchors its log in Rekor before the final seal.
publish=()
if [ -n "${KSK_REKOR_URL:-}" ] && [ -n "${KSK_REKOR_KEY:-}" ]; then
  cp "$KSK_REKOR_KEY" "$work/rekor.pub"
  publish=(--param publish=true --param rekor_url="$KSK_REKOR_URL" --param rekor_key=rekor.pub)
fi
quarterly="$root/scripts/ceremonies/quarterly-signing.yaml"
step "Quarterly key signing ceremony: check the script (no HSM touched)"
"$ksk" ceremony check "$quarterly" --dir "$work" --param date="$today" "${publish[@]}" | tail -n 30

step "Quarterly key signing ceremony: run it (rehearsal, answers from $work/quarterly-answers.yaml)"
"$ksk" ceremony run "$quarterly" --dir "$work" --param date="$today" "${publish[@]}" --log "$work/ceremony.log" \
  --answers "$work/quarterly-answers.yaml" --transcript "$work/transcript.txt" > "$work/quarterly-run.txt"
sed -n '/Act 4/,/Act 5/p' "$work/quarterly-run.txt"

step "Verify the SKR: every signature, the KSK chain to the trust anchors the ceremony exported, and that it answers the KSR"
"$ksk" skr verify --ksr "$work/ksr.xml" --anchors "$work/media/root-anchors.xml" "$work/out/skr.xml"
echo "The exported DS agrees with the key generation ceremony's record:"
cat "$work/out/root-anchors.ds" "$work/out/anchors.ds"

step "Verify the attestation log as finished and of this ceremony: chain, seal last, the witnesses' sign-off"
"$ksk" log verify --attestation-key "$work/media/ksk-attestation.pem" \
  --allowed-signers "$work/allowed_signers" --script "$quarterly" "$work/ceremony.log"
if [ ${#publish[@]} -gt 0 ]; then
  step "Verify the log's anchoring in Rekor offline, against the pinned Rekor key"
  "$ksk" log verify --attestation-key "$work/media/ksk-attestation.pem" --rekor-key "$work/rekor.pub" "$work/ceremony.log"
fi

step "Print the ceremony binder from the script, and the annotated transcript and the TCR's report from the log (HTML and PDF)"
for fmt in html pdf; do
  "$ksk" ceremony print "$quarterly" --dir "$work" --param date="$today" "${publish[@]}" --format "$fmt" --out "$work/binder.$fmt" --force
  "$ksk" log show "$work/ceremony.log" --format "$fmt" --out "$work/transcript.$fmt" --force
done
rekor_check=()
[ ${#publish[@]} -gt 0 ] && rekor_check=(--rekor-key "$work/rekor.pub")
"$ksk" log verify --attestation-key "$work/media/ksk-attestation.pem" --allowed-signers "$work/allowed_signers" \
  "${rekor_check[@]}" --script "$quarterly" --report "$work/report.html" --force "$work/ceremony.log" > /dev/null
echo "TCR report: $work/report.html"

step "Export the SKR for the zone's signer (DNS presentation format)"
"$ksk" skr export --format zone --out "$work/out/skr.zone" "$work/out/skr.xml"
head -n 4 "$work/out/skr.zone"

data="$root/testdata/iana-root"
step "IANA's real 2017 Q2 KSR, against the previous SKR"
"$ksk" ksr verify --at 2017-04-01T00:00:00Z \
  --previous-skr "$data/skr-root-2017-q1-0.xml" "$data/ksr-root-2017-q2-0.xml"

step "IANA's real 2017 Q2 SKR, against the KSR and the root trust anchors"
"$ksk" skr verify --at 2017-04-01T00:00:00Z --ksr "$data/ksr-root-2017-q2-0.xml" \
  --anchors "$root/testdata/root-anchors/root-anchors.xml" "$data/skr-root-2017-q2-0.xml"

step "Done"
cat <<DONE
SKR:             $work/out/skr.xml (copy on the output media: $work/media/skr.xml)
Attestation log: $work/ceremony.log
Transcript:      $work/transcript.txt, $work/transcript.html, $work/transcript.pdf
Binder:          $work/binder.html, $work/binder.pdf (printed from $quarterly)
TCR report:      $work/report.html
Log head:        $(awk '/^Head:/ {print $2}' "$work/quarterly-run.txt")
Key generation:  $work/keygen.log, transcript $work/keygen-transcript.txt
Credentials:     $work/credentials/ (3 of 7 crypto officers)
Tokens:          $demo/tokens (SOFTHSM2_CONF=$SOFTHSM2_CONF)
Check the log as a TCR would:
  $ksk log verify --attestation-key $work/media/ksk-attestation.pem --allowed-signers $work/allowed_signers --script $quarterly $work/ceremony.log
DONE
