#!/usr/bin/env bash
# Run one Molecule scenario, `molecule test -s SCENARIO`, keeping its whole
# output in artifacts/molecule-SCENARIO.log. make test-molecule runs several
# at once (MOLECULE_JOBS), so each prints a line when it starts and when it
# passes, with its slowest tests, or what failed; alone (MOLECULE_JOBS=1) it
# also prints its output as it goes.
# Usage: molecule/scenario.sh SCENARIO
set -uo pipefail
scenario=$1
log=artifacts/molecule-$scenario.log
plain() { sed 's/\x1b\[[0-9;]*m//g' "$log"; }

mkdir -p artifacts
started=$(date +%s)
echo "molecule scenario $scenario started (its output: $log)"
if [ "${MOLECULE_JOBS:-1}" = 1 ]; then
    COLUMNS=240 molecule test -s "$scenario" 2>&1 | tee "$log"
else
    COLUMNS=240 molecule test -s "$scenario" > "$log" 2>&1
fi
passed=$?
took=$(( $(date +%s) - started ))
if [ "$passed" = 0 ]; then
    echo "molecule scenario $scenario passed in $took s; its slowest tests:"
    plain | grep -a -A 11 'slowest .* durations' | grep -a -E '^[ │]*[0-9.]+s ' | sed "s/^/  $scenario: /"
    exit 0
fi
echo "molecule scenario $scenario FAILED after $took s; what failed (the whole output: $log):"
plain | grep -aE '(FAILED|ERROR) [^ ]*::|^[ │]*E  |fatal: \[|failed: \[' | cut -c1-400 | tail -n 40
exit 1
