#!/usr/bin/env bash
# Measures what starting the codeset binary costs, against Go programs that
# do nothing but import part of what it imports, so that the part of a
# short command's time spent before main (process start, package
# initialisation) can be read off: see bench/README.md, "Where issue 11
# stands (fifth session)".
#
#   bench/startup.sh            # 5 alternating rounds of 40 runs each
#   ROUNDS=3 RUNS=100 bench/startup.sh
#
# Prints, per program, the mean wall time of a run (milliseconds, the best
# and the median round) measured in this one run.
set -euo pipefail

cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
RUNS=${RUNS:-40}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Programs built with the main module's go.mod and go.sum (copied), so
# that they import exactly the versions codeset does.
mkdir -p "$work/src/empty" "$work/src/excelize" "$work/src/sqlite"
cat >"$work/src/empty/main.go" <<'GO'
package main

func main() {}
GO
cat >"$work/src/excelize/main.go" <<'GO'
package main

import _ "github.com/xuri/excelize/v2"

func main() {}
GO
cat >"$work/src/sqlite/main.go" <<'GO'
package main

import _ "modernc.org/sqlite"

func main() {}
GO
cp go.mod go.sum "$work/src/"
for p in empty excelize sqlite; do
	(cd "$work/src" && go build -o "$work/$p" "./$p")
done
go build -o "$work/codeset" ./cmd/codeset

names=(empty excelize sqlite "codeset version")
cmds=("$work/empty" "$work/excelize" "$work/sqlite" "$work/codeset version")
for r in $(seq "$ROUNDS"); do
	for k in "${!cmds[@]}"; do
		start=$EPOCHREALTIME
		for _ in $(seq "$RUNS"); do ${cmds[$k]} >/dev/null; done
		end=$EPOCHREALTIME
		awk -v s="$start" -v e="$end" -v n="$RUNS" 'BEGIN {printf "%.2f\n", (e-s)*1000/n}' >>"$work/t$k"
	done
done
printf '%-18s %10s %10s\n' program best_ms median_ms
for k in "${!cmds[@]}"; do
	sort -n "$work/t$k" | awk -v l="${names[$k]}" '{a[NR]=$1} END {printf "%-18s %10s %10s\n", l, a[1], a[int((NR+1)/2)]}'
done
