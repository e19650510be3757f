# awk -v cols=C -v rows=R -f whole_frame.awk SCREEN: exit 0 when SCREEN
# (tmux capture-pane -p) is one whole klptop frame of that size: the
# header on the first row, its clock ending at the last column but one,
# the F-key bar on the last row, each once, no row wider than the pane.
# A program drawing for another size, or a frame drawn over another,
# fails it.  (tui/tests/t_screen_keys.sh, the klptop_screen scenario.)
# an ellipsis (a cut name, UTF-8: 3 bytes) is one column, as mawk's
# length() counts bytes
{ gsub(/\342\200\246/, "~"); line[NR] = $0 }
/^ klptop  / { head++ }
/^F1Help/ { bar++ }
length($0) > cols { wide++ }
END {
	exit !(NR == rows && head == 1 && bar == 1 && !wide &&
	       line[1] ~ /^ klptop  / &&
	       length(line[1]) == cols - 1 && line[rows] ~ /^F1Help/)
}
