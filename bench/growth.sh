#!/usr/bin/env bash
# growth.sh: the cost of a release after many, against another build.
#
#   BASE=/tmp/codeset-main bench/growth.sh        # NEW defaults to this tree's build
#   REPS=7 COUNT=20 N=75000 SEED=1 BASE=... NEW=... bench/growth.sh
#   GEN=-drift BASE=... bench/growth.sh    # the growing series of earlier sessions
#
# Writes COUNT successive synthetic releases of N codes (bench/gen), runs
# them in order with each build (codeset run, one data directory and tree
# per build), keeping a copy of each build's data and tree after the first
# release and after release COUNT-1. Then, REPS times, alternating the
# builds, it repeats run 2 and run COUNT on fresh copies of those (hard
# links: see below) and prints, per build, the median CPU time (user+sys),
# wall time and peak RSS, and run COUNT / run 2. Last it compares every
# file of the two builds' final trees and data directories (the run
# ledger left out: it records times; and the data directory's
# _catalogue.json: it names inodes).
#
# The series holds its size (bench/gen's default, synth.Steady: every
# release N codes, about as many changes each), so run COUNT differs from
# run 2 by the history behind it, not by a bigger release.
#
# Each timed run starts from a tree made of hard links to a saved one,
# itself hard links to the series' own files (cp -al): codeset never writes
# a published file, a stored snapshot or the history in place (it writes a
# new file and renames it over the old), so the links keep the saved tree
# as it was, and the data directory's catalogue of snapshots
# (snapshot.CatalogueName), which trusts a file by its inode, still trusts
# them. Only the files a run does change in place, the run ledger
# (ledger.sqlite and its journal) and the lock files, are real copies. A
# whole copy of the tree (COPY=1, how this script measured before
# 2026-12-03) costs the timed run more, the more so the larger the tree
# (why is not pinned down: the copy is synced before the run starts). On
# 2026-12-03 (REPS=7, one build against itself) run 20 took 0.83-0.98 s
# of CPU after a copy and 0.75-0.84 s after links, run 2 0.66-0.77 and
# 0.65-0.78 s: run 20 / run 2 1.25-1.33 with copies, 1.08-1.15 with
# links. The script checks at the end that the saved trees are unchanged,
# so a build that did write a file in place is caught rather than
# measured on a changed tree.
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-5}
COUNT=${COUNT:-20}
N=${N:-75000}
SEED=${SEED:-1}
GEN=${GEN:-}
COPY=${COPY:-}
: "${BASE:?BASE=path of the codeset binary to compare with}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ -z ${NEW:-} ]]; then
	go build -o "$work/codeset" ./cmd/codeset
	NEW=$work/codeset
fi
go build -o "$work/gen" ./bench/gen
"$work/gen" files $GEN -n "$N" -seed "$SEED" -count "$COUNT" "$work/in"
mapfile -t files < <(ls "$work/in" | sort)
sys=icd10cm

# save SRC DST: DST a tree of hard links to SRC's files (a whole copy with
# COPY=1), but for the files a run changes in place, which are copied.
save() {
	local src=$1 dst=$2 g
	if [[ -n $COPY ]]; then
		cp -a "$src" "$dst"
		return
	fi
	cp -al "$src" "$dst"
	for g in "$dst"/data/ledger.sqlite* "$dst"/data/locks/*; do
		[[ -f $g ]] || continue
		rm "$g"
		cp -a "$src/${g#"$dst"/}" "$g"
	done
}

# series NAME BIN: every release in order into $work/NAME.
series() {
	local name=$1 bin=$2 d=$work/$1 i=0
	for f in "${files[@]}"; do
		i=$((i + 1))
		"$bin" run --data "$d/data" --out "$d/out" --system $sys --release "${f%.txt}" "$work/in/$f" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
		if ((i == 1)); then save "$d" "$work/$name-after1"; fi
		if ((i == COUNT - 1)); then save "$d" "$work/$name-before"; fi
	done
}
series base "$BASE"
series new "$NEW"

# once NAME BIN K: run K on a fresh copy of the tree before it.
once() {
	local name=$1 bin=$2 k=$3 src d=$work/run f
	if ((k == 2)); then src=$work/$name-after1; else src=$work/$name-before; fi
	f=${files[$((k - 1))]}
	rm -rf "$d"
	save "$src" "$d"
	if [[ -n $COPY ]]; then
		# New inodes: link the stored snapshots back so the catalogue trusts them.
		for s in "$src/data/$sys"/*.sqlite; do
			ln -f "$work/$name/data/$sys/$(basename "$s")" "$d/data/$sys/"
		done
	fi
	sync
	/usr/bin/time -f "%e %U %S %M" -o "$work/t" "$bin" run --data "$d/data" --out "$d/out" --system $sys --release "${f%.txt}" "$work/in/$f" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
	echo "$name $k $(cat "$work/t") $(cut -d' ' -f1 /proc/loadavg)" >>"$work/runs"
}
# sums NAME: a checksum of every file of the saved trees of NAME.
sums() { (cd "$work" && find "$1-after1" "$1-before" -type f -print0 | sort -z | xargs -0 sha256sum); }
sums base >"$work/sums-base"
sums new >"$work/sums-new"
: >"$work/runs"
for _ in $(seq "$REPS"); do
	for who in base new; do
		bin=$BASE
		[[ $who == new ]] && bin=$NEW
		once $who "$bin" 2
		once $who "$bin" "$COUNT"
	done
done
awk -v count="$COUNT" '
function median(a, n,   i, j, t) {
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
	k = $1 " " $2; n[k]++
	cpu[k, n[k]] = $4 + $5; wall[k, n[k]] = $3
	if ($6 > rss[k]) rss[k] = $6
	if (load == "" || $7 > load) load = $7
	if (minload == "" || $7 < minload) minload = $7
}
END {
	for (w = 0; w < 2; w++) {
		who = w ? "new" : "base"
		for (r = 0; r < 2; r++) {
			run = r ? count : 2; k = who " " run
			for (i = 1; i <= n[k]; i++) { c[i] = cpu[k, i]; t[i] = wall[k, i] }
			mc[k] = median(c, n[k]); mw[k] = median(t, n[k])
			printf "%-4s run %2d: cpu %.2f s  wall %.2f s  peak %d MiB  (median of %d)\n", who, run, mc[k], mw[k], rss[k] / 1024, n[k]
		}
		printf "%-4s run %d / run 2: cpu %.2f, wall %.2f\n", who, count, mc[who " " count] / mc[who " 2"], mw[who " " count] / mw[who " 2"]
	}
	printf "load average (1 min) during the runs: %s to %s\n", minload, load
}' "$work/runs"

# The saved trees the timed runs started from must be as they were.
for who in base new; do
	if ! sums $who | cmp -s - "$work/sums-$who"; then
		echo "the timed runs changed $who's saved trees (a file written in place?):" >&2
		sums $who | diff "$work/sums-$who" - >&2 || true
		exit 1
	fi
done

# The final trees: every file the same but the ledger and the catalogue.
(cd "$work/base" && find . -type f ! -name 'ledger.sqlite*' ! -name _catalogue.json | sort) >"$work/fb"
(cd "$work/new" && find . -type f ! -name 'ledger.sqlite*' ! -name _catalogue.json | sort) >"$work/fn"
if ! diff "$work/fb" "$work/fn" >"$work/fd"; then
	echo "files in one build's trees only:"
	sed -n 's/^[<>] /  /p' "$work/fd"
fi
same=0 differ=0
while read -r f; do
	if [[ -f $work/new/$f ]]; then
		if cmp -s "$work/base/$f" "$work/new/$f"; then same=$((same + 1)); else differ=$((differ + 1)); echo "differs: $f"; fi
	fi
done <"$work/fb"
echo "final trees: $same files identical, $differ differ"
