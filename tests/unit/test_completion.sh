#!/bin/bash
# klptop's bash completion (completion/klptop) under bash-completion:
# every option of `klptop --help` completes, -p/--disable/--force offer
# the patch directories of a fake /sys/kernel/livepatch, --record offers
# directories only, --replay directories and *.dat files, --openmetrics
# directories and *.prom files, --load directories and *.ko files,
# --on-stall its policies.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
klptop=${KLPTOP:-$top/build/tui/klptop}
bc=/usr/share/bash-completion/bash_completion
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$klptop" ] || fail "$klptop not built (make -C tui)"
[ -r "$bc" ] || fail "$bc missing (apt-get install bash-completion: scripts/deps.sh)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/sys/lp_one" "$tmp/sys/lp_two" "$tmp/cwd/recdir" "$tmp/cwd/other"
# names the shell would split or glob: offered quoted, each as one word
mkdir -p "$tmp/sys2/lp a" "$tmp/sys2/lp*b" "$tmp/sys2/lp_c"
touch "$tmp/cwd/trace.dat" "$tmp/cwd/notes.txt" "$tmp/cwd/klptrace.prom" \
	"$tmp/cwd/lp.ko"

# complete LINE: the candidates bash would offer for LINE, sorted.
complete_line() {
	(
		cd "$tmp/cwd" || exit 1
		# shellcheck disable=SC1090
		. "$bc"
		# shellcheck disable=SC1091
		. "$top/completion/klptop"
		KLPTOP_COMP_SYSFS=${SYSFS:-$tmp/sys}
		COMP_LINE=$1
		COMP_POINT=${#1}
		read -r -a COMP_WORDS <<<"$1"
		[[ $1 == *' ' ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMPREPLY=()
		_klptop klptop "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf '%s\n' "${COMPREPLY[@]}" | sed 's|/$||' | LC_ALL=C sort
	)
}
expect() {	# LINE, expected candidates (space-separated)
	local got want
	got=$(complete_line "$1" | tr '\n' ' ' | sed 's/ $//')
	want=$2
	[ "$got" = "$want" ] || fail "'$1': got '$got', want '$want'"
}

# Every option --help names (its OPTIONS and scripted flow) completes.
# (its lines that start with an option: the option lists)
opts=$("$klptop" --help | grep '^    -' |
	grep -o -- '\(^\|[ ,]\)--\?[a-zA-Z][a-z-]*' |
	sed 's/^[ ,]*//' | grep '^-' | sort -u)
all=$(complete_line "klptop -" | sort -u)
missing=$(comm -23 <(echo "$opts") <(echo "$all"))
[ -z "$missing" ] || fail "options of --help that do not complete: $missing"
extra=$(comm -13 <(echo "$opts") <(echo "$all"))
[ -z "$extra" ] || fail "completed options --help does not name: $extra"

expect "klptop --dis" "--disable"
expect "klptop -p " "lp_one lp_two"
expect "klptop --disable lp_t" "lp_two"
expect "klptop --force " "lp_one lp_two"
expect "klptop --record " "other recdir"
expect "klptop --replay " "other recdir trace.dat"
expect "klptop --openmetrics " "klptrace.prom other recdir"
expect "klptop -s c" "checks command"
expect "klptop --load " "lp.ko other recdir"
expect "klptop --load x.ko --on-stall " "disable disable-unload report"
expect "klptop --load x.ko --on-stall=dis" "disable disable-unload"
SYSFS=$tmp/sys2 expect "klptop -p " 'lp\ a lp\*b lp_c'
SYSFS=$tmp/sys2 expect "klptop -p lp\\*" 'lp\*b'
echo "completion: $(echo "$opts" | wc -l) options, patch names, directories"
