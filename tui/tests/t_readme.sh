# shellcheck shell=bash
# The README's klptop screens are what klptop shows now (sourced by
# run.sh): tui/readme-captures.sh makes them again from the fixture
# recording and they must equal the committed ones (make
# readme-captures updates README.md after a change to the screen).

t_readme_captures() {
	"$top/tui/readme-captures.sh" -o "$work/README.md" "$klptop" ||
		fail "readme-captures.sh failed" || return 1
	grep -q '^<!-- capture:blocked -->$' "$top/README.md" ||
		fail "README.md has no capture block" || return 1
	diff -u "$top/README.md" "$work/README.md" >"$work/readme.diff" ||
		fail "README.md's screens are not klptop's now (make readme-captures): $(head -n 40 "$work/readme.diff")"
}

more_tests+=(readme_captures)
