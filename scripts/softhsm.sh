#!/usr/bin/env bash
# softhsm.sh: private SoftHSM2 tokens for ksk's tests, demo and developers.
#
# Run it:
#   scripts/softhsm.sh install                  install softhsm2 (as root) or say what to install
#   scripts/softhsm.sh module                   print the SoftHSM2 PKCS#11 module path
#   scripts/softhsm.sh init DIR                 make DIR/softhsm2.conf and DIR/tokens (mode 0700)
#   scripts/softhsm.sh token DIR LABEL          create a token labelled LABEL in DIR
#   scripts/softhsm.sh import DIR LABEL KEY KEYLABEL
#                                               import softhsm-testdata/KEY.pkcs8 (or a path)
#                                               into token LABEL under KEYLABEL
#   scripts/softhsm.sh env DIR LABEL            print the exports that point ksk at the token
#
# or source it (". scripts/softhsm.sh") and call softhsm_install,
# softhsm_module, softhsm_init, softhsm_token, softhsm_import, softhsm_env;
# softhsm_init then also exports SOFTHSM2_CONF in your shell.
#
# PINs: the user PIN comes from $KSK_PIN and the security officer's from
# $KSK_SO_PIN; when unset, token makes random ones. Either way they are
# stored in DIR/LABEL.pin and DIR/LABEL.so-pin (mode 0600), and ksk reads
# them from there (KSK_PIN_SOURCE=file:DIR/LABEL.pin): a PIN is never on
# ksk's command line. softhsm2-util itself only takes PINs as arguments
# (it reads a terminal otherwise), so they do appear briefly in its argv:
# acceptable for these throw-away tokens, never for a real HSM.
#
# Every token lives in DIR, under its own SOFTHSM2_CONF; the system token
# store (/var/lib/softhsm/tokens) is never used.

_softhsm_script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_softhsm_testdata="$_softhsm_script_dir/../softhsm-testdata"

_softhsm_err() { echo "softhsm.sh: $*" >&2; }

# softhsm_install: install softhsm2 with apt-get when missing and running
# as root; otherwise print the exact package to install and fail.
softhsm_install() {
  if command -v softhsm2-util >/dev/null 2>&1 && [ -n "$(softhsm_module 2>/dev/null)" ]; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    _softhsm_err "SoftHSM2 is not installed; install it with: sudo apt-get install -y softhsm2"
    return 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    _softhsm_err "SoftHSM2 is not installed and apt-get is missing; install the softhsm2 package (Debian/Ubuntu), softhsm (Fedora) or softhsm (Homebrew)"
    return 1
  fi
  echo "softhsm.sh: installing softhsm2" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends softhsm2 >/dev/null ||
    { _softhsm_err "apt-get install softhsm2 failed"; return 1; }
}

# softhsm_module: print the SoftHSM2 module path ($SOFTHSM2_MODULE first).
softhsm_module() {
  local m
  for m in "${SOFTHSM2_MODULE:-}" \
    /usr/lib/softhsm/libsofthsm2.so \
    /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
    /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so \
    /usr/lib64/pkcs11/libsofthsm2.so \
    /usr/local/lib/softhsm/libsofthsm2.so \
    /opt/homebrew/lib/softhsm/libsofthsm2.so; do
    if [ -n "$m" ] && [ -e "$m" ]; then
      echo "$m"
      return 0
    fi
  done
  _softhsm_err "SoftHSM2 module not found; run: scripts/softhsm.sh install"
  return 1
}

# _softhsm_dir DIR: the absolute path of DIR, refusing the system store.
_softhsm_dir() {
  [ -n "${1:-}" ] || { _softhsm_err "missing DIR"; return 1; }
  local abs
  abs=$(realpath -m -- "$1") || return 1
  case "$abs/" in
    /var/lib/softhsm/*|/var/lib/softhsm2/*|/etc/softhsm/*)
      _softhsm_err "refusing the system token store $abs"; return 1 ;;
  esac
  mkdir -p "$abs" && chmod 700 "$abs" || return 1
  echo "$abs"
}

# softhsm_init DIR: write DIR/softhsm2.conf for the private token directory
# DIR/tokens and export SOFTHSM2_CONF (in a sourcing shell).
softhsm_init() {
  local dir
  dir=$(_softhsm_dir "${1:-}") || return 1
  mkdir -p "$dir/tokens" && chmod 700 "$dir/tokens" || return 1
  if [ ! -f "$dir/softhsm2.conf" ]; then
    sed "s|@TOKENDIR@|$dir/tokens|" "$_softhsm_testdata/softhsm2.conf.in" > "$dir/softhsm2.conf" || return 1
    chmod 600 "$dir/softhsm2.conf"
  fi
  export SOFTHSM2_CONF="$dir/softhsm2.conf"
}

_softhsm_random_pin() { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# softhsm_token DIR LABEL: create a token labelled LABEL in DIR (which
# softhsm_init prepares if needed), with PINs from $KSK_PIN and
# $KSK_SO_PIN or random ones, stored in DIR/LABEL.pin and DIR/LABEL.so-pin.
softhsm_token() {
  local dir label="${2:-}"
  [ -n "$label" ] || { _softhsm_err "usage: token DIR LABEL"; return 1; }
  softhsm_init "${1:-}" || return 1
  dir=$(dirname "$SOFTHSM2_CONF")
  if softhsm2-util --show-slots 2>/dev/null | grep -Eq "Label: +$label *$"; then
    _softhsm_err "a token labelled $label already exists in $dir"
    return 1
  fi
  local pin="${KSK_PIN:-}" so="${KSK_SO_PIN:-}"
  [ -n "$pin" ] || pin=$(_softhsm_random_pin)
  [ -n "$so" ] || so=$(_softhsm_random_pin)
  (umask 077 && printf '%s\n' "$pin" > "$dir/$label.pin" && printf '%s\n' "$so" > "$dir/$label.so-pin") || return 1
  softhsm2-util --init-token --free --label "$label" --pin "$pin" --so-pin "$so" >/dev/null ||
    { _softhsm_err "softhsm2-util --init-token failed"; return 1; }
  echo "softhsm.sh: token $label created in $dir (PINs in $dir/$label.pin and $dir/$label.so-pin)" >&2
}

# softhsm_import DIR LABEL KEY KEYLABEL: import a PKCS#8 key (a name in
# softhsm-testdata/ or a path) into token LABEL as a key pair KEYLABEL.
softhsm_import() {
  local label="${2:-}" key="${3:-}" keylabel="${4:-}" dir file
  [ -n "$keylabel" ] || { _softhsm_err "usage: import DIR LABEL KEY KEYLABEL"; return 1; }
  softhsm_init "${1:-}" || return 1
  dir=$(dirname "$SOFTHSM2_CONF")
  file=$key
  [ -f "$file" ] || file="$_softhsm_testdata/$key.pkcs8"
  [ -f "$file" ] || { _softhsm_err "no key $key (looked for $file)"; return 1; }
  local pin="${KSK_PIN:-}"
  [ -n "$pin" ] || pin=$(head -n1 "$dir/$label.pin" 2>/dev/null)
  [ -n "$pin" ] || { _softhsm_err "no user PIN: set KSK_PIN or create the token with this script"; return 1; }
  local id
  id=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  softhsm2-util --import "$file" --token "$label" --label "$keylabel" --id "$id" --pin "$pin" >/dev/null ||
    { _softhsm_err "softhsm2-util --import failed"; return 1; }
  # softhsm2-util leaves decrypt (and more) on, which ksk refuses: turn
  # everything but signing off with ksk keys restrict, when ksk is at hand.
  local ksk="${KSK:-}"
  [ -n "$ksk" ] || ksk=$(command -v ksk 2>/dev/null || true)
  [ -n "$ksk" ] || { [ -x "$_softhsm_script_dir/../bin/ksk" ] && ksk="$_softhsm_script_dir/../bin/ksk"; }
  if [ -n "$ksk" ]; then
    SOFTHSM2_CONF="$dir/softhsm2.conf" KSK_PKCS11_MODULE=$(softhsm_module) KSK_TOKEN="$label" KSK_IMPORT_PIN="$pin" KSK_PIN_SOURCE=env:KSK_IMPORT_PIN \
      "$ksk" keys restrict --label "$keylabel" >/dev/null ||
      { _softhsm_err "ksk keys restrict --label $keylabel failed"; return 1; }
  else
    _softhsm_err "imported $keylabel; run: ksk keys restrict --label $keylabel (softhsm2-util leaves decrypt on, which ksk refuses)"
  fi
}

# softhsm_env DIR LABEL: print the exports that point ksk at token LABEL.
softhsm_env() {
  local label="${2:-}" dir module
  [ -n "$label" ] || { _softhsm_err "usage: env DIR LABEL"; return 1; }
  dir=$(_softhsm_dir "${1:-}") || return 1
  module=$(softhsm_module) || return 1
  printf 'export SOFTHSM2_CONF=%q\n' "$dir/softhsm2.conf"
  printf 'export KSK_PKCS11_MODULE=%q\n' "$module"
  printf 'export KSK_TOKEN=%q\n' "$label"
  printf 'export KSK_PIN_SOURCE=%q\n' "file:$dir/$label.pin"
  printf 'export KSK_STATE_DIR=%q\n' "$dir/state"
}

_softhsm_main() {
  set -euo pipefail
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
    install) softhsm_install ;;
    module) softhsm_module ;;
    init) softhsm_init "$@" && echo "export SOFTHSM2_CONF=$SOFTHSM2_CONF" ;;
    token) softhsm_install && softhsm_token "$@" ;;
    import) softhsm_import "$@" ;;
    env) softhsm_env "$@" ;;
    *)
      sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
      return 2 ;;
  esac
}

# Run as a script, not when sourced.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  _softhsm_main "$@"
fi
