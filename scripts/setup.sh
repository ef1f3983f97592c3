#!/usr/bin/env bash
# setup.sh: install what ksk's tests and demo need on a Debian machine.
#
#   softhsm2          the PKCS#11 token used by tests, CI and the demo
#   ldnsutils         ldns-key2ds, ldns-verify-zone (independent validators)
#   knot-dnssecutils  kzonecheck (independent validator)
#   bind9-utils       dnssec-dsfromkey, dnssec-verify (independent validators)
#   openssl           key conversion in scripts/softhsm.sh
#   openssh-client    ssh-keygen, for witness signatures on attestation logs
#   nsd, unbound      the authoritative server and validating resolver that
#                     follow a ksk-signed rollover in the resolver tests
#   bind9             named, the second validating resolver in those tests
#   gcc               builds cmd/ksk/testdata/timeshift, which runs them at
#                     the rollover's dates (and cgo for miekg/pkcs11)
#
# As root it installs what is missing with apt-get; otherwise it names the
# packages to install and fails. Usage: scripts/setup.sh [--quiet]
set -euo pipefail

quiet=false
[ "${1:-}" = "--quiet" ] && quiet=true
say() { $quiet || echo "setup: $*"; }

# package:probe pairs; a probe is a command or an absolute file.
needs=(
  "softhsm2:softhsm2-util"
  "ldnsutils:ldns-key2ds"
  "ldnsutils:ldns-verify-zone"
  "knot-dnssecutils:kzonecheck"
  "bind9-utils:dnssec-dsfromkey"
  "bind9-utils:dnssec-verify"
  "openssl:openssl"
  "openssh-client:ssh-keygen"
  "chromium:chromium"
  "poppler-utils:pdftotext"
  "poppler-utils:pdftoppm"
  "nsd:/usr/sbin/nsd"
  "unbound:/usr/sbin/unbound"
  "bind9:/usr/sbin/named"
  "gcc:gcc"
)

missing=()
for n in "${needs[@]}"; do
  pkg=${n%%:*} probe=${n#*:}
  if [[ $probe == /* ]]; then [ -e "$probe" ] && continue
  else command -v "$probe" >/dev/null 2>&1 && continue; fi
  [[ " ${missing[*]:-} " == *" $pkg "* ]] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
  say "all packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing Debian packages: ${missing[*]}" >&2
  echo "setup: install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

say "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
say "installed ${missing[*]}"
