#!/usr/bin/env bash
# fuzz.sh: run every native fuzz target (func FuzzX) of the module for
# FUZZTIME each (default 15s). Used by `make fuzz`.
#
# A target fails when the fuzzer writes a reproducer under
# testdata/fuzz/<target>/, or exits non-zero for any reason other than the
# Go 1.26 coordinator race golang/go#75804 (a bare "context deadline
# exceeded" at the -fuzztime boundary with no reproducer), which is
# reported as a warning: it says nothing about our code.
set -uo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-15s}
go=${GO:-go}
failed=0 passed=0 flaked=0
log=$(mktemp); trap 'rm -f "$log"' EXIT

for pkg in $($go list ./...); do
  dir=$($go list -f '{{.Dir}}' "$pkg")
  for t in $($go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    corpus="$dir/testdata/fuzz/$t"
    before=$(ls "$corpus" 2>/dev/null | sort)
    echo "fuzz $pkg $t ($fuzztime)"
    $go test -run '^$' -fuzz "^$t\$" -fuzztime "$fuzztime" -fuzzminimizetime 2s -parallel 2 "$pkg" >"$log" 2>&1
    rc=$?
    after=$(ls "$corpus" 2>/dev/null | sort)
    new=$(comm -13 <(echo "$before") <(echo "$after") | grep -v '^$' || true)
    if [ -n "$new" ]; then
      cat "$log"; echo "FAIL $t: reproducer written: $corpus/$new"; failed=$((failed+1))
    elif [ $rc -ne 0 ] && grep -q 'context deadline exceeded' "$log" && ! grep -q -e 'panic:' -e 'Failing input' "$log"; then
      echo "warning $t: 'context deadline exceeded' at the fuzztime boundary with no reproducer (golang/go#75804)"; flaked=$((flaked+1))
    elif [ $rc -ne 0 ]; then
      cat "$log"; echo "FAIL $t"; failed=$((failed+1))
    else
      passed=$((passed+1))
    fi
  done
done
echo "fuzz: $passed passed, $failed failed, $flaked flaked (golang/go#75804)"
[ $failed -eq 0 ]
