#!/usr/bin/env bash
# lookup-ab.sh BASE NEW OUT SNAPSHOT [ROUNDS] [N]: serves the published tree
# OUT with two codeset binaries side by side (BASE, NEW), times each one's
# first code lookup (what loading its caches costs), then runs ROUNDS
# alternating rounds of N lookups of random codes of SNAPSHOT and N
# requests of /healthz (the floor: the server and loopback round trip
# alone), printing bench/lookup's percentiles, the server's CPU time per
# timed request (bench/lookup -pid: the run times of its threads, in ns;
# the untimed requests bench/lookup makes first are not counted) and its
# resident memory (now and peak).
# Needs bench/lookup built as $LOOKUP (default /tmp/lookup). Linux only.
set -euo pipefail
base=$1 new=$2 out=$3 snap=$4 rounds=${5:-3} n=${6:-2000}
lookup=${LOOKUP:-/tmp/lookup}
declare -A pid url
log=$(mktemp -d)
trap 'kill ${pid[base]:-} ${pid[new]:-} 2>/dev/null || true; rm -rf "$log"' EXIT
for b in base new; do
	bin=$base
	[[ $b == new ]] && bin=$new
	"$bin" --out "$out" serve --static-only --addr 127.0.0.1:0 >"$log/$b" 2>&1 &
	pid[$b]=$!
	for _ in $(seq 100); do
		url[$b]=$(sed -n 's|^serving .* on \(http://[^ ]*\)/$|\1|p' "$log/$b")
		[[ -n ${url[$b]} ]] && break
		sleep 0.1
	done
done
rss() { awk '/VmRSS/{r=$2} /VmHWM/{h=$2} END{print r" KB (peak "h" KB)"}' "/proc/$1/status"; }
sys=$(basename "$(dirname "$snap")")
for b in base new; do
	echo "$b: RSS at start $(rss "${pid[$b]}"); first lookup $(curl -s -o /dev/null -w '%{time_total}' "${url[$b]}/api/v1/$sys/codes/A00") s, second $(curl -s -o /dev/null -w '%{time_total}' "${url[$b]}/api/v1/$sys/codes/A01") s"
done
for r in $(seq "$rounds"); do
	echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
	for b in base new; do
		l=$("$lookup" -url "${url[$b]}" -snapshot "$snap" -n "$n" -seed "$r" -pid "${pid[$b]}" | tail -1)
		h=$("$lookup" -url "${url[$b]}" -path /healthz -n "$n" -pid "${pid[$b]}" | tail -1)
		echo "$b: ${l#*: } | healthz ${h#*: } | RSS $(rss "${pid[$b]}")"
	done
done
