#!/usr/bin/env bash
# Runs the 100k-code benchmarks and measures their peak RSS.
# Usage, from the repository root: bench/run.sh
# Needs GNU time at /usr/bin/time (Debian/Ubuntu: apt-get install time).
set -euo pipefail

cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== go test -bench (ns/op, B/op, allocs/op)"
go test ./ingest -run '^$' -bench 'BenchmarkReadXLSX100k$' -benchtime 3x -benchmem
go test ./diff -run '^$' -bench 'BenchmarkCompare100k$|BenchmarkWords$' -benchmem

if [[ ! -x /usr/bin/time ]]; then
	echo "no /usr/bin/time: skipping the peak RSS measurement" >&2
	exit 0
fi

go test -c -o "$work/ingest.test" ./ingest
go test -c -o "$work/diff.test" ./diff

# peak NAME CMD...: runs CMD once under GNU time and prints its peak RSS.
peak() {
	local name=$1
	shift
	/usr/bin/time -v -o "$work/time.txt" "$@" >"$work/out.txt"
	grep -E '^Benchmark' "$work/out.txt" || true
	printf '%-40s peak RSS %s KiB\n' "$name" "$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")"
}

echo "== peak RSS (one iteration per process)"
xlsx="$work/cpt100k.xlsx"
# The first run writes the workbook and reads it; the second only reads it.
peak "ReadXLSX100k, writing the workbook too" \
	"$work/ingest.test" -test.run '^$' -test.bench 'BenchmarkReadXLSX100k$' -test.benchtime 1x -test.benchmem -benchxlsx "$xlsx"
peak "ReadXLSX100k" \
	"$work/ingest.test" -test.run '^$' -test.bench 'BenchmarkReadXLSX100k$' -test.benchtime 1x -test.benchmem -benchxlsx "$xlsx"
peak "Compare100k, building both releases" \
	"$work/diff.test" -test.run '^$' -test.bench 'BenchmarkCompare100k$' -test.benchtime 1x -test.benchmem
