#!/bin/bash
# readme_excerpt.sh VIRTLAB SUMMARY README — rewrites README's summary
# excerpt (the lines between the "report-excerpt begin" and "report-excerpt
# end" markers) with `VIRTLAB report excerpt SUMMARY`. `make readme-excerpt`
# runs it on tests/fixtures/report-summary.json; tests/test_report_rows.c
# checks that the README holds exactly this output.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 VIRTLAB SUMMARY README" >&2; exit 2; }
exe=$1 summary=$2 readme=$3
grep -q '^<!-- report-excerpt begin' "$readme" && grep -q '^<!-- report-excerpt end -->' "$readme" ||
	{ echo "$0: $readme lacks the report-excerpt markers" >&2; exit 1; }
new=$(mktemp) out=$(mktemp)
trap 'rm -f "$new" "$out"' EXIT
"$exe" report excerpt "$summary" >"$new"
awk -v f="$new" '
	/^<!-- report-excerpt begin/ { print; while ((getline l < f) > 0) print l; skip = 1; next }
	/^<!-- report-excerpt end -->/ { skip = 0 }
	!skip { print }' "$readme" >"$out"
cat "$out" >"$readme"
