#!/usr/bin/env bash
# Times the release-day run of a real release after the one before, on a
# fresh copy of a tree that holds the earlier release (so every timed run
# starts from the same state):
#
#   bench/realrun.sh setup BIN DIR         # stores the earlier releases with BIN
#   bench/realrun.sh time BIN DIR cm|pcs|hc  # one timed run of the next release
#
# cm: ICD-10-CM FY2025 after FY2024; pcs: ICD-10-PCS FY2025 after FY2024;
# hc: HCPCS 2025 (the January zip) after 2020. Alternate two builds, each
# with its own DIR, and read several rounds: the figures in bench/README.md
# ("Where issue 11 stands") were taken this way. Needs ../shared/realdata
# (or CODESET_REALDATA) and GNU time.
set -euo pipefail

R=${CODESET_REALDATA:-$(cd "$(dirname "$0")/.." && pwd)/../shared/realdata}
usage() {
	echo "usage: $0 setup BIN DIR | time BIN DIR cm|pcs|hc" >&2
	exit 2
}
(($# >= 3)) || usage
mode=$1 bin=$(realpath "$2") dir=$3

case $mode in
setup)
	rm -rf "$dir"
	mkdir -p "$dir"
	"$bin" run --quiet --data "$dir/cm/d" --out "$dir/cm/o" --system icd10cm --release FY2024 "$R/icd10cm/2024/icd10cm-CodesDescriptions-2024.zip"
	"$bin" run --quiet --data "$dir/pcs/d" --out "$dir/pcs/o" --system icd10pcs --release FY2024 "$R/icd10pcs/2024/cms_2024_pr.zip"
	"$bin" run --quiet --data "$dir/hc/d" --out "$dir/hc/o" --system hcpcs --release 2020 "$R/hcpcs/2020/2020-Alpha-Numeric-HCPCS-File.zip"
	;;
time)
	(($# == 4)) || usage
	case $4 in
	cm) args=(--system icd10cm --release FY2025 "$R/icd10cm/2025/cms_2025_dx.zip") ;;
	pcs) args=(--system icd10pcs --release FY2025 "$R/icd10pcs/2025/cms_2025_pr.zip") ;;
	hc) args=(--system hcpcs --release 2025 "$R/hcpcs/2025/hcpcs-2025.zip") ;;
	*) usage ;;
	esac
	w=$(mktemp -d)
	trap 'rm -rf "$w"' EXIT
	cp -a "$dir/$4/." "$w/"
	sync
	/usr/bin/time -f "%e s wall %U+%S cpu %M KB" "$bin" run --quiet --data "$w/d" --out "$w/o" "${args[@]}" 2>&1 | tail -1
	;;
*) usage ;;
esac
