#!/bin/bash
# contrib/: the alert rules pass `promtool check rules` and their unit
# tests (`promtool test rules`: each alert silent before its threshold,
# firing after with its labels and annotations); every metric the rules
# and the Grafana dashboard query is one klptop exports (its --help
# METRICS) or node_exporter's textfile mtime; the dashboard is JSON; the
# systemd unit's klptop command line runs (on a replay) and systemd-analyze
# finds nothing wrong in it but the binary and page not installed here.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
klptop=${KLPTOP:-$top/build/tui/klptop}
c=$top/contrib
fail() { echo "FAIL: $*"; exit 1; }
command -v promtool >/dev/null || fail "promtool missing (scripts/deps.sh: prometheus)"
[ -x "$klptop" ] || fail "$klptop not built (make -C tui)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

out=$(promtool check rules "$c/prometheus/klptrace.rules.yml" 2>&1) ||
	fail "promtool check rules: $out"
out=$(cd "$c/prometheus" && promtool test rules klptrace.rules.test.yml 2>&1) ||
	fail "promtool test rules: $out"

"$klptop" --help >"$tmp/help" || fail "klptop --help"
python3 - "$tmp/help" "$c/prometheus/klptrace.rules.yml" \
	"$c/prometheus/klptrace.grafana.json" <<'PY' || exit 1
import json, re, sys
help_ = open(sys.argv[1]).read()
sec = help_[help_.index("\nMETRICS\n"):help_.index("\nEXAMPLES\n")]
known = set(re.findall(r"\b(klp(?:trace)?_[a-z_]+)", sec))
known.add("node_textfile_mtime_seconds")
exprs = re.findall(r"^\s+expr: (.*)$", open(sys.argv[2]).read(), re.M)
dash = json.load(open(sys.argv[3]))
for p in dash["panels"]:
    exprs += [t["expr"] for t in p.get("targets", [])]
exprs += [v["query"]["query"] for v in dash["templating"]["list"]
          if isinstance(v.get("query"), dict)]
bad = 0
for e in exprs:
    names = set(re.findall(r"\b((?:klp|klptrace|node)_[a-z_]+)", e))
    for n in names - known:
        print("FAIL: %r queries %s, which klptop does not export" % (e, n))
        bad = 1
if len(exprs) < 10:
    print("FAIL: only %d expressions found" % len(exprs))
    bad = 1
sys.exit(bad)
PY

# The unit's command line, on a replay instead of the live kernel.
unit=$c/systemd/klptop-metrics.service
cmd=$(sed -n 's/^ExecStart=//p' "$unit")
[ -n "$cmd" ] || fail "no ExecStart in $unit"
file=$(echo "$cmd" | grep -o -- '--openmetrics [^ ]*' | cut -d' ' -f2)
dir=$(dirname "$file")
for k in ProtectSystem=strict NoNewPrivileges=yes "ReadWritePaths=$dir " \
	CapabilityBoundingSet=CAP_DAC_READ_SEARCH PrivateNetwork=yes; do
	grep -q "^$k" "$unit" || fail "$unit lacks $k"
done
# shellcheck disable=SC2086
set -- ${cmd#* }
args=()
for a in "$@"; do args+=("${a/$dir/$tmp}"); done
"$klptop" "${args[@]}" -n 2 --replay "$top/lib/tests/fixtures/vm-recording" ||
	fail "the unit's command line: exit $?"
promtool check metrics <"$tmp/$(basename "$file")" >/dev/null 2>&1 ||
	fail "promtool check metrics of the unit's file"
if command -v systemd-analyze >/dev/null; then
	out=$(systemd-analyze verify "$unit" 2>&1 |
		grep -v -e "Command /usr/sbin/klptop is not executable" \
			-e "Command 'man klptop(8)' failed")
	[ -z "$out" ] || fail "systemd-analyze verify: $out"
fi
echo "contrib: rules and their tests, dashboard, systemd unit"
