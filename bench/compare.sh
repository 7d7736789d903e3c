#!/usr/bin/env bash
# Measures codeset against its anchors on this machine, in one run, and
# prints every figure as a ratio: see bench/README.md.
#
#   bench/compare.sh            # everything
#   REPS=3 SIZES="74000 100000" bench/compare.sh
#   PERCODE= GROWTH=0 bench/compare.sh   # skip the per-code and growth runs
#
# Installs its anchors when missing (Debian/Ubuntu, as root): sqldiff from
# sqlite3-tools and GNU time. Synthetic releases come from bench/gen with a
# fixed seed, so every run measures the same data: the pairs of the diff
# and per-code figures are the growing series (gen -drift), as every
# figure before the sixth session was measured; the growth check's twenty
# releases hold their size (gen's default, synth.Steady). Times are wall-clock
# seconds of the whole process, the median of REPS runs that alternate
# codeset and the anchor; memory is the largest peak RSS of those runs
# (GNU time's maximum resident set size). The first line says what a page
# fault costs on the machine (bench/faultcost), which moves the ratios.
set -euo pipefail

cd "$(dirname "$0")/.."
REPS=${REPS:-5}
SIZES=${SIZES:-"74000 100000 1000000"}
SEED=${SEED:-20261127}
GROWTH=${GROWTH:-20}
GROWTH_N=${GROWTH_N:-75000}
PERCODE=${PERCODE-"10000 100000 1000000"}
REAL=${CODESET_REALDATA:-../shared/realdata}
LOOKUPS=${LOOKUPS:-1000}

need=()
command -v sqldiff >/dev/null || need+=(sqlite3-tools)
[[ -x /usr/bin/time ]] || need+=(time)
if ((${#need[@]})); then
	echo "installing ${need[*]}" >&2
	apt-get install -y "${need[@]}" >/dev/null || { apt-get update >/dev/null && apt-get install -y "${need[@]}" >/dev/null; }
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/codeset" ./cmd/codeset
go build -o "$work/gen" ./bench/gen
go build -o "$work/lookup" ./bench/lookup
go build -o "$work/faultcost" ./bench/faultcost
cs=$work/codeset

# The ratios below depend on the machine's page-fault cost (see
# bench/faultcost): say what it is, and the load, before the figures.
echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown); $("$work/faultcost")"

# measure OUT CMD...: runs CMD under GNU time, appends "seconds kib" to OUT.
measure() {
	local out=$1
	shift
	/usr/bin/time -f '%e %M' -o "$work/t" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; return 1; }
	cat "$work/t" >>"$out"
}
# median FILE: median seconds and max KiB of the lines of FILE.
median() { sort -n "$1" | awk '{t[NR]=$1; if ($2>m) m=$2} END {printf "%.3f %d\n", t[int((NR+1)/2)], m}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.0f", k/1024}'; }

echo "== codeset diff vs sqldiff --primarykey (two stored snapshots a release apart; median of $REPS)"
echo "   and vs comm -3 on the same two releases as sorted text (bench/gen files), the floor of any line diff"
printf '%-10s %12s %12s %8s %12s %12s %10s %8s\n' codes codeset_s sqldiff_s ratio codeset_MiB sqldiff_MiB comm_s vs_comm
for n in $SIZES; do
	d=$work/diff$n
	"$work/gen" snapshots -drift -n "$n" -seed "$SEED" -count 2 "$d"
	"$work/gen" files -drift -n "$n" -seed "$SEED" -count 2 "$d/text"
	: >"$work/a"
	: >"$work/b"
	: >"$work/c"
	for _ in $(seq "$REPS"); do
		measure "$work/a" "$cs" --data "$d" --out "$work/none" diff --system icd10cm --from FY2001 --to FY2002
		measure "$work/b" sqldiff --primarykey "$d/icd10cm/FY2001.sqlite" "$d/icd10cm/FY2002.sqlite"
		measure "$work/c" env LC_ALL=C comm -3 "$d/text/FY2001.txt" "$d/text/FY2002.txt"
	done
	read -r ta ma < <(median "$work/a")
	read -r tb mb < <(median "$work/b")
	read -r tc _ < <(median "$work/c")
	printf '%-10s %12s %12s %8s %12s %12s %10s %8s\n' "$n" "$ta" "$tb" "$(ratio "$ta" "$tb")" "$(mib "$ma")" "$(mib "$mb")" "$tc" \
		"$(awk -v a="$ta" -v c="$tc" 'BEGIN {if (c > 0) printf "%.2f", a/c; else print "-"}')"
	rm -rf "$d"
done

# lookups DIR SNAPSHOT: starts codeset serve on the published tree DIR (a
# free loopback port), times $LOOKUPS sequential code lookups of random
# codes of SNAPSHOT with bench/lookup, and stops the server.
lookups() {
	"$cs" --out "$1" serve --static-only --addr 127.0.0.1:0 >"$work/serve.log" 2>&1 &
	local pid=$! url=""
	for _ in $(seq 100); do
		url=$(sed -n 's|^serving .* on \(http://[^ ]*\)/$|\1|p' "$work/serve.log")
		[[ -n $url ]] && break
		sleep 0.1
	done
	[[ -n $url ]] || { cat "$work/serve.log" >&2; kill "$pid"; return 1; }
	"$work/lookup" -url "$url" -snapshot "$2" -n "$LOOKUPS" || { kill "$pid"; return 1; }
	# The floor: the same server's /healthz (no file read).
	"$work/lookup" -url "$url" -path /healthz -n "$LOOKUPS" || { kill "$pid"; return 1; }
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

if [[ -f $REAL/icd10cm/2025/cms_2025_dx.zip ]]; then
	echo "== real ICD-10-CM: codeset run FY2025 (with CDC's FY2025 conversion table) after FY2024 (whole process, all formats; median of $REPS)"
	: >"$work/a"
	: >"$work/b"
	for _ in $(seq "$REPS"); do
		rm -rf "$work/real"
		"$cs" --data "$work/real/D" --out "$work/real/O" run --system icd10cm --release FY2024 "$REAL/icd10cm/2024/icd10cm-CodesDescriptions-2024.zip" >/dev/null
		measure "$work/a" "$cs" --data "$work/real/D" --out "$work/real/O" run --system icd10cm --release FY2025 "$REAL/icd10cm/2025/cms_2025_dx.zip" \
			"$REAL/icd10cm/conversion-tables/icd-10-cm-conversion-table-FY2025.xlsx"
		measure "$work/b" sqldiff --primarykey "$work/real/D/icd10cm/FY2024.sqlite" "$work/real/D/icd10cm/FY2025.sqlite"
		measure "$work/c" "$cs" --data "$work/real/D" --out "$work/real/O" diff --system icd10cm --from FY2024 --to FY2025
		measure "$work/d" "$cs" --data "$work/real/D" --out "$work/real/O" reindex
	done
	read -r ta ma < <(median "$work/a")
	read -r tb mb < <(median "$work/b")
	read -r tc mc < <(median "$work/c")
	read -r td md < <(median "$work/d")
	echo "run FY2025:              $ta s, $(mib "$ma") MiB"
	echo "diff FY2024 FY2025:      $tc s, $(mib "$mc") MiB; sqldiff --primarykey $tb s, $(mib "$mb") MiB; ratio $(ratio "$tc" "$tb")"
	echo "reindex, tree unchanged: $td s, $(mib "$md") MiB"
	echo "== code lookup API on loopback (codeset serve of that tree, $LOOKUPS sequential GET /api/v1/icd10cm/codes/CODE)"
	lookups "$work/real/O" "$work/real/D/icd10cm/FY2025.sqlite"
	rm -rf "$work/real"
fi

[[ -z $PERCODE ]] || echo "== codeset run, per code (a first release, then the next one; one run each)"
[[ -z $PERCODE ]] || printf '%-10s %10s %10s %12s %10s %10s %12s\n' codes first_s first_MiB first_us/code next_s next_MiB next_us/code
for n in $PERCODE; do
	in=$work/in$n
	"$work/gen" files -drift -n "$n" -seed "$SEED" -count 2 "$in"
	: >"$work/a"
	: >"$work/b"
	measure "$work/a" "$cs" --data "$work/p$n/D" --out "$work/p$n/O" run --system icd10cm --release FY2001 "$in/FY2001.txt"
	measure "$work/b" "$cs" --data "$work/p$n/D" --out "$work/p$n/O" run --system icd10cm --release FY2002 "$in/FY2002.txt"
	read -r ta ma <"$work/a"
	read -r tb mb <"$work/b"
	printf '%-10s %10s %10s %12s %10s %10s %12s\n' "$n" "$ta" "$(mib "$ma")" "$(awk -v t="$ta" -v n="$n" 'BEGIN {printf "%.2f", t*1e6/n}')" \
		"$tb" "$(mib "$mb")" "$(awk -v t="$tb" -v n="$n" 'BEGIN {printf "%.2f", t*1e6/n}')"
	rm -rf "$in" "$work/p$n"
done

if ((GROWTH < 2)); then
	exit 0
fi
echo "== growth: $GROWTH successive releases of $GROWTH_N codes (codeset run, one each)"
in=$work/growth
"$work/gen" files -n "$GROWTH_N" -seed "$SEED" -count "$GROWTH" "$in"
: >"$work/g"
for f in $(ls "$in" | sort); do
	label=${f%.txt}
	measure "$work/g" "$cs" --data "$work/gr/D" --out "$work/gr/O" run --system icd10cm --release "$label" "$in/$f"
done
awk '{printf "run %2d: %6.2f s %5.0f MiB\n", NR, $1, $2/1024}' "$work/g"
awk -v n="$GROWTH" 'NR==2 {a=$1; am=$2} END {printf "run %d / run 2: time %.2f, memory %.2f\n", n, $1/a, $2/am}' "$work/g"
