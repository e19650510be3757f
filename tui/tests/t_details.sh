# shellcheck shell=bash
# Sourced by tui/tests/run.sh (its helpers: fail, expect_error, fake,
# build_fakesys, start_screen, screen_has, loop_until, tmx, ...).
#
# A patch's page (details.c: -b, --json --patch-details, Enter on the
# screen) and the replay you can navigate (the clock stops at the end,
# the recorded kernel, -p on a replay, Home/End, g, [ ], { }, . and ,).
# The judge is the kernel's own text of the recorded buffer
# (vm-capture/trace.txt) and what the VM said of itself (info), never
# klptop's output replayed.

# ----------------------------------------------------- -b and --json

# The history and blockers of every --json --patch-details frame equal
# what trace.txt says happened to the patch up to the frame's time.
t_details_json() {
	"$klptop" --replay "$fix/vm-recording" --json --patch-details -d 0.2 \
		>"$work/frames.json" 2>"$work/err" ||
		fail "exit $?: $(cat "$work/err")" || return 1
	python3 - "$work/frames.json" "$cap/trace.txt" <<'PY'
import json, re, sys
frames = [json.loads(l) for l in open(sys.argv[1])]
ev = []
pat = re.compile(r"\s(\d+)\.(\d{6}): (\w+): (.*)$")
for line in open(sys.argv[2]):
    m = pat.search(line)
    if not m:
        continue
    us = int(m.group(1)) * 1000000 + int(m.group(2))
    f = dict(kv.split("=", 1) for kv in m.group(4).split() if "=" in kv)
    ev.append((us, m.group(3), f))
# the page's word for an event: klp_transition_init -> init,
# klp_module_unload_ready -> unload-ready (passes and refs: below)
def names(name):
    return name.split("_", 2)[2].replace("_", "-")

def expected(patch, until_us):
    """(step, first_us, last_us, target) from the patch's enable on:
    klp_enable_patch() gets its module (try_module_get) then inits the
    transition, under klp_mutex: the get right before that init is the
    history's first step."""
    steps, blk, born, get = [], {}, False, None
    for us, name, f in ev:
        if us > until_us:
            break
        if name == "klp_module_ref" and f["op"] == "get":
            get = (us, f.get("module"))
        mine = f.get("patch", f.get("module")) == patch
        if not mine:
            continue
        if name == "klp_transition_init":
            if f["target"] == "patched":
                steps, born = [], True
                if get and get[1] == patch:
                    steps.append(["get", get[0], get[0], None])
                get = None
            blk = {}
        if not born:
            continue
        if name == "klp_task_blocked":
            b = blk.setdefault((int(f["pid"]), f["target"]), [0, us, us])
            b[0] += 1
            b[2] = us
            continue
        if name == "klp_transition_pass":
            last = steps[-1] if steps else None
            if last and last[0] == "passes" and last[3] == f["target"]:
                last[2] = us
                continue
            steps.append(["passes", us, us, f["target"]])
        elif name == "klp_module_ref":
            steps.append([f["op"], us, us, None])
        elif name.startswith(("klp_transition_", "klp_patch_",
                              "klp_module_unload")):
            steps.append([names(name), us, us, f.get("target")])
    return steps, blk

def close(ns, us):
    return abs(ns / 1000 - us) <= 1     # trace.txt rounds to the us

seen = 0
for fr in frames:
    for p in fr["patches"]:
        d = p["details"]
        steps, blk = expected(p["name"], fr["ts_ns"] / 1000 + 1)
        got = d["history"]
        if [s["step"] for s in got] != [s[0] for s in steps]:
            sys.exit("%s at %d: steps %s, trace.txt %s" % (
                p["name"], fr["ts_ns"], [s["step"] for s in got],
                [s[0] for s in steps]))
        for g, w in zip(got, steps):
            if not close(g["first_ts_ns"], w[1]) or not close(g["ts_ns"], w[2]):
                sys.exit("%s: step %s at %d-%d, trace.txt %d-%d us" % (
                    p["name"], g["step"], g["first_ts_ns"], g["ts_ns"],
                    w[1], w[2]))
            if w[3] and g["target"] != w[3]:
                sys.exit("%s: step %s target %s, trace.txt %s" % (
                    p["name"], g["step"], g["target"], w[3]))
        if not d["history_whole"] or d["history_dropped"]:
            sys.exit("%s: the recording saw its enable: whole, none dropped" % p["name"])
        # the last transition's blockers: tasks, counts, first and last
        # distinct tasks (a reverse is the same transition), and per target
        pids = {pid for pid, _ in blk}
        to = {t: len([1 for _, u in blk if u == t]) for t in ("patched", "unpatched")}
        if d["blocked_tasks"] != len(pids) or not d["blocked_tasks_exact"] \
           or d["blocked_tasks_to"] != to:
            sys.exit("%s at %d: %d blocked tasks %s, trace.txt %d %s" % (
                p["name"], fr["ts_ns"], d["blocked_tasks"],
                d["blocked_tasks_to"], len(pids), to))
        for b in d["blockers"]:
            w = blk.get((b["pid"], b["target"]))
            if not w or b["checks"] != w[0] or not close(b["first_ns"], w[1]) \
               or not close(b["last_ns"], w[2]):
                sys.exit("%s: blocker %s, trace.txt %s" % (p["name"], b, w))
        # a replay has no sysfs and no module file: unknown, not guessed
        if d["srcversion"] is not None or d["description"] is not None \
           or d["replace"] is not None or d["objects"] is not None:
            sys.exit("%s: a replay's modinfo/replace/objects are known: %s" % (p["name"], d))
        seen += 1
if seen < 5:
    sys.exit("only %d frames with a patch" % seen)
PY
}

# The same page in -b: its lines say the same steps as the JSON frame.
t_details_batch() {
	"$klptop" --replay "$fix/vm-recording" -b --patch-details -d 0.5 \
		>"$work/frames.txt" 2>"$work/err" ||
		fail "exit $?: $(cat "$work/err")" || return 1
	local pid
	pid=$(cat "$cap/sleeper_pid")
	grep -q "^    srcversion: ? (a replay" "$work/frames.txt" &&
	grep -q "^    description: ? (a replay" "$work/frames.txt" &&
	grep -q "^    replace: ? (a replay" "$work/frames.txt" &&
	grep -q "^    step [0-9.]* init enable: every task set unpatched" "$work/frames.txt" &&
	grep -q "^    step [0-9.]* passes stack checks #0: [0-9]* checked, 1 pending" "$work/frames.txt" &&
	grep -q "^    step [0-9.]* put module reference dropped: refcnt 1 by do_init_module" "$work/frames.txt" &&
	grep -q "^    blocker $pid klpt_sleeper ->patched sleeping_in_func klpt_sleep_fn checks " "$work/frames.txt" ||
		fail "-b page: $(grep -A 20 'details:' "$work/frames.txt" | head -40)" || return 1
	# the page's lines come only with --patch-details
	"$klptop" --replay "$fix/vm-recording" -b -d 0.5 >"$work/plain.txt" 2>&1
	! grep -q "details:" "$work/plain.txt" || fail "a page without --patch-details"
}

# lp_page SRCVERSION MODULES_DEP KO_REL KO: --json --patch-details of a
# fake lp (loaded, that srcversion in sysfs) whose kernel's modules.dep
# and file KO_REL (under lib/modules/KVER) are copies of those; got its
# exit code.
lp_page() {
	fake patch:lp:1:0 module:lp:1:1 \
		file:sys/module/lp/srcversion:"$1" \
		copy:sys/module/lp/notes/.note.gnu.build-id:"$work/note" \
		file:proc/sys/kernel/osrelease:$kver \
		copy:lib/modules/$kver/modules.dep:"$2" \
		copy:lib/modules/$kver/"$3":"$4" \
		-- "$san" --json -n 1 --patch-details >"$work/out" 2>"$work/err"
	got=$?
}

# A live session (fake system): the module's srcversion from sysfs, its
# description from its file in modules.dep when that file is the loaded
# build, objects loaded or not, a patch there before the session.
t_details_live() {
	build_fakesys || return 1
	local kver=6.1.0-test ko=$work/lp.ko ko2=$work/lp2.ko id
	# a .modinfo, and a GNU build ID note as ld --build-id writes it
	# (namesz 4, descsz, NT_GNU_BUILD_ID, "GNU", the ID)
	mkko() {	# FILE SRCVERSION-LINE ID-BYTES
		printf '%s\n' '__attribute__((section(".modinfo"), used)) static const char mi[] =' \
			"	\"livepatch=Y\\0name=lp\\0$2description=lp: a test patch\\0\";" \
			'__asm__(".section .note.gnu.build-id,\"a\",@note\n.balign 4\n.long 4\n.long 8\n.long 3\n.asciz \"GNU\"\n'"$3"'\n.previous\n");' \
			>"$work/mi.c"
		cc -c -o "$1" "$work/mi.c"
	}
	mkko "$ko" 'srcversion=5A6B7C8D9E\0' '.byte 0xde,0xad,0xbe,0xef,1,2,3,4' &&
	mkko "$ko2" '' '.byte 0xde,0xad,0xbe,0xef,5,6,7,8' || fail "cc .modinfo" || return 1
	# the kernel's notes file: the loaded section's bytes (objcopy's)
	objcopy -O binary --only-section=.note.gnu.build-id "$ko" "$work/note" &&
	id=$(readelf -n "$ko" | sed -n 's/.*Build ID: //p') && [ "$id" = deadbeef01020304 ] ||
		fail "the test module's build ID: $(readelf -n "$ko")" || return 1
	printf 'extra/lp.ko:\n' >"$work/modules.dep"
	fake patch:lp:1:0 module:lp:1:1 module:tgt:1:0 \
		func:lp:vmlinux:cmdline_proc_show,1:1 \
		func:lp:tgt:tgt_fn,1:1 func:lp:gone:gone_fn,1:0 \
		file:sys/module/lp/srcversion:5A6B7C8D9E \
		copy:sys/module/lp/notes/.note.gnu.build-id:"$work/note" \
		file:proc/sys/kernel/osrelease:$kver \
		copy:lib/modules/$kver/modules.dep:"$work/modules.dep" \
		copy:lib/modules/$kver/extra/lp.ko:"$ko" \
		-- "$san" -b -n 1 --patch-details >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" "^klptop [0-9:]*  kernel $kver " \
		"^    srcversion: 5A6B7C8D9E$" \
		"^    description: lp: a test patch$" \
		"^    file: .*/lib/modules/$kver/extra/lp.ko$" \
		"^    replace: ? (this kernel's sysfs has no replace file" \
		"^    object vmlinux loaded yes patched yes funcs 1$" \
		"^    object tgt loaded yes patched yes funcs 1$" \
		"^    object gone loaded no patched no funcs 1$" \
		"^    history: from [0-9.]* only: what came before is unknown$" \
		"^    blocked by: ? (no transition of it seen whole)$" || return 1
	# an object's "loaded" (6.1): its patched file 1, or initstate live
	# or coming (klp_module_coming() runs before the module's sysfs is
	# set up); going, or no initstate (no such loadable module: a
	# built-in with parameters has /sys/module/NAME all the same): no
	fake patch:lp:1:0 module:lp:1:1 module:com:1:0 initstate:com:coming \
		module:goi:0:0 initstate:goi:going \
		file:sys/module/bi/parameters/p:1 \
		func:lp:com:com_fn,1:0 func:lp:goi:goi_fn,1:0 \
		func:lp:bi:bi_fn,1:0 \
		-- "$san" -b -n 1 --patch-details >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" \
		"^    object com loaded yes patched no funcs 1$" \
		"^    object goi loaded no patched no funcs 1$" \
		"^    object bi loaded no patched no funcs 1$" || return 1
	# srcversion there but not readable (a directory: EISDIR): unknown,
	# with why, not "built without MODULE_VERSION" (only ENOENT says so)
	fake patch:lp:1:0 module:lp:1:1 file:sys/module/lp/srcversion/x:1 \
		file:proc/sys/kernel/osrelease:$kver \
		copy:lib/modules/$kver/modules.dep:"$work/modules.dep" \
		copy:lib/modules/$kver/extra/lp.ko:"$ko" \
		-- "$san" --json -n 1 --patch-details >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" \
		'"srcversion":null,"srcversion_why":"cannot read /sys/module/lp/srcversion: Is a directory"' \
		'"description":null,"description_why":"unverified: cannot read /sys/module/lp/notes/.note.gnu.build-id: No such file or directory; its file says: lp: a test patch"' || return 1
	# review #2: no srcversion either side (Debian: no
	# CONFIG_MODULE_SRCVERSION_ALL), the same name, another build (its
	# build ID): not lp's description; without the loaded ID: unverified
	printf 'updates/lp.ko:\n' >"$work/modules2.dep"
	local notes want spec
	for notes in yes no; do
		want="its file is another build (build ID deadbeef05060708..., loaded deadbeef01020304...)"
		spec=(copy:sys/module/lp/notes/.note.gnu.build-id:"$work/note")
		[ $notes = yes ] || {
			want="unverified: cannot read /sys/module/lp/notes/.note.gnu.build-id: No such file or directory; its file says: lp: a test patch"
			spec=()
		}
		fake patch:lp:1:0 module:lp:1:1 "${spec[@]}" \
			file:proc/sys/kernel/osrelease:$kver \
			copy:lib/modules/$kver/modules.dep:"$work/modules2.dep" \
			copy:lib/modules/$kver/updates/lp.ko:"$ko2" \
			-- "$san" -b -n 1 --patch-details >"$work/out" 2>"$work/err"
		got=$?
		expect_out 0 "$work/out" "^    description: ? ($want)\$" || return 1
	done
	# another build of lp in modules.dep: its description is not lp's
	lp_page 0000000000 "$work/modules.dep" extra/lp.ko "$ko"
	expect_out 0 "$work/out" '"description":null,"description_why":"its file is another build (srcversion 5A6B7C8D9E, loaded 0000000000)"' \
		'"srcversion":"0000000000"' '"history_whole":false' || return 1
	# modules.dep lists a compressed lp (CONFIG_MODULE_COMPRESS_*): the
	# description is unknown because of that, not "another module's"
	gzip -c "$ko" >"$work/lp.ko.gz" && printf 'extra/lp.ko.gz:\n' >"$work/modules-gz.dep" ||
		fail "gzip" || return 1
	lp_page 5A6B7C8D9E "$work/modules-gz.dep" extra/lp.ko.gz "$work/lp.ko.gz"
	expect_out 0 "$work/out" '"description":null,"description_why":"its file is compressed (.gz): klptop reads an uncompressed .ko only"' \
		'"srcversion":"5A6B7C8D9E"' || return 1
	# lp's entry names another module's file: said so, with its name
	sed 's/name=lp/name=lq/' "$work/mi.c" >"$work/mq.c" &&
		cc -c -o "$work/lq.ko" "$work/mq.c" || fail "cc lq" || return 1
	lp_page 5A6B7C8D9E "$work/modules.dep" extra/lp.ko "$work/lq.ko"
	expect_out 0 "$work/out" '"description":null,"description_why":"its file is another module'"'"'s (.modinfo name lq)"' || return 1
	# frames of -b --patch-details read modules.dep and the .ko once
	# while they do not change (strace -D: the traced klptop keeps the
	# pid fakesys made its tracefs instance for)
	if command -v strace >/dev/null; then
		fake patch:lp:1:0 module:lp:1:1 \
			file:sys/module/lp/srcversion:5A6B7C8D9E \
			copy:sys/module/lp/notes/.note.gnu.build-id:"$work/note" \
			file:proc/sys/kernel/osrelease:$kver \
			copy:lib/modules/$kver/modules.dep:"$work/modules.dep" \
			copy:lib/modules/$kver/extra/lp.ko:"$ko" \
			-- strace -D -f -e trace=open,openat -o "$work/strace" \
			"$klptop" -b -n 4 -d 0.1 --patch-details >"$work/out" 2>"$work/err"
		got=$?
		expect_out 0 "$work/out" "^    description: lp: a test patch$" || return 1
		[ "$(grep -c '^    description: lp: a test patch$' "$work/out")" = 4 ] ||
			fail "not 4 frames with the description: $(cat "$work/out")" || return 1
		[ "$(grep -c 'modules\.dep"' "$work/strace")" = 1 ] &&
			[ "$(grep -c 'extra/lp\.ko"' "$work/strace")" = 4 ] ||
			fail "modules.dep or lp.ko read again: $(grep -E 'modules.dep|lp.ko' "$work/strace")" || return 1
	fi
	# ... and again once one changes: lp.ko rewritten in place (the
	# same inode: its size and mtime tell), then modules.dep replaced
	# by a rename (another inode) naming a file that is not there
	local pid d
	rm -f "$work/fakedir"
	"$fakesys" "$fakedir" patch:lp:1:0 module:lp:1:1 \
		file:sys/module/lp/srcversion:5A6B7C8D9E \
		copy:sys/module/lp/notes/.note.gnu.build-id:"$work/note" \
		file:proc/sys/kernel/osrelease:$kver \
		copy:lib/modules/$kver/modules.dep:"$work/modules.dep" \
		copy:lib/modules/$kver/extra/lp.ko:"$ko" \
		-- "$san" -b -d 0.1 --patch-details >"$work/out" 2>"$work/err" &
	pid=$!
	local stage="the first description"
	if loop_until 10 grep -q "^    description: lp: a test patch$" "$work/out"; then
		stage="lp.ko's change"
		d=$(cat "$work/fakedir")
		cat "$work/lq.ko" >"$d/root/lib/modules/$kver/extra/lp.ko"
	fi &&
	if loop_until 10 grep -q "^    description: ? (its file is another module's (.modinfo name lq))" "$work/out"; then
		stage="modules.dep's change"
		printf 'extra/other/lp.ko:\n' >"$d/root/lib/modules/$kver/modules.dep.new" &&
			mv "$d/root/lib/modules/$kver/modules.dep.new" "$d/root/lib/modules/$kver/modules.dep"
	fi &&
	loop_until 10 grep -q "^    description: ? (cannot read its file: No such file or directory)" "$work/out" &&
	stage=
	# fakesys's child is klptop (it execs it): ended, fakesys then too
	kill "$(ps -o pid= --ppid "$pid")"
	wait "$pid"
	[ -z "$stage" ] || fail "$stage not seen: $(tail -n 5 "$work/out") $(cat "$work/err")" || return 1
	# a recording keeps the kernel's release, and its replay says it
	rm -rf "$work/krec"
	fake patch:lp:1:0 module:lp:1:1 file:proc/sys/kernel/osrelease:$kver \
		-- "$san" -b -n 1 --record "$work/krec" >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/krec/klptrace-recording" "^kernel_release $kver\$" || return 1
	"$san" --replay "$work/krec" -b -n 1 >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" "^klptop +[0-9.]*s  kernel $kver  mode replay " || return 1
	# no srcversion file: built without MODULE_VERSION, and no modules.dep
	fake patch:lp:1:0 module:lp:1:1 -- "$san" --json -n 1 --patch-details \
		>"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" '"srcversion":"","srcversion_why":"no /sys/module/lp/srcversion: built without MODULE_VERSION"' \
		'"description":null,"description_why":"the module'"'"'s file is not known'
}

# ------------------------------------------------------------ replays

# The recorded kernel: an old recording says none (unknown), one with
# kernel_release says it (the VM's own word: vm-capture/info).
t_replay_kernel() {
	local k rec=$work/with-kernel
	k=$(sed -n 's/^kernel //p' "$cap/info")
	[ -n "$k" ] || fail "fixture: no kernel in info" || return 1
	"$klptop" --replay "$fix/vm-recording" -b -n 1 >"$work/out" 2>&1
	grep -q "^klptop +[0-9.]*s  kernel unknown  mode replay " "$work/out" ||
		fail "old recording: $(head -1 "$work/out")" || return 1
	"$klptop" --replay "$fix/vm-recording" --json -n 1 >"$work/out" 2>&1
	grep -q '"kernel":null' "$work/out" || fail "JSON: $(head -c 300 "$work/out")" || return 1
	rm -rf "$rec" && cp -r "$fix/vm-recording" "$rec" &&
		echo "kernel_release $k" >>"$rec/klptrace-recording"
	"$klptop" --replay "$rec" -b -n 1 >"$work/out" 2>&1
	grep -q "^klptop +[0-9.]*s  kernel $k  mode replay " "$work/out" ||
		fail "recorded kernel: $(head -1 "$work/out")" || return 1
	"$klptop" --replay "$rec" --json -n 1 >"$work/out" 2>&1
	grep -q "\"kernel\":\"$k\"" "$work/out" || fail "JSON: $(head -c 300 "$work/out")" || return 1
	# a trace.dat: trace-cmd record's uname option names the kernel
	# (the word before the machine); the fixture's (trace-cmd restore) has none
	"$klptop" --replay "$fix/vm-recording.dat" -b -n 1 >"$work/out" 2>/dev/null
	grep -q "^klptop +[0-9.]*s  kernel unknown  mode replay " "$work/out" ||
		fail "trace.dat without uname: $(head -1 "$work/out")" || return 1
	python3 "$here/dat_uname.py" "$fix/vm-recording.dat" "$work/u.dat" \
		"Linux klpt-vm $k x86_64" || fail "dat_uname.py" || return 1
	"$klptop" --replay "$work/u.dat" -b -n 1 >"$work/out" 2>/dev/null
	grep -q "^klptop +[0-9.]*s  kernel $k  mode replay " "$work/out" ||
		fail "trace.dat's uname: $(head -1 "$work/out")" || return 1
	"$klptop" --replay "$work/u.dat" --json -n 1 >"$work/out" 2>/dev/null
	grep -q "\"kernel\":\"$k\"" "$work/out" || fail "trace.dat JSON: $(head -c 300 "$work/out")" || return 1
	# a nodename with spaces (sethostname() takes any bytes) or none
	local u
	for u in "Linux my host $k x86_64" "Linux  $k x86_64"; do
		python3 "$here/dat_uname.py" "$fix/vm-recording.dat" "$work/u.dat" \
			"$u" || fail "dat_uname.py" || return 1
		"$klptop" --replay "$work/u.dat" -b -n 1 >"$work/out" 2>/dev/null
		grep -q "^klptop +[0-9.]*s  kernel $k  mode replay " "$work/out" ||
			fail "uname '$u': $(head -1 "$work/out")" || return 1
	done
	# one that is not a release (a control character) is unknown
	python3 "$here/dat_uname.py" "$fix/vm-recording.dat" "$work/u.dat" \
		"$(printf 'Linux vm 6.1\033[2J x86_64')" || fail "dat_uname.py" || return 1
	"$klptop" --replay "$work/u.dat" -b -n 1 >"$work/out" 2>/dev/null
	grep -q "^klptop +[0-9.]*s  kernel unknown  mode replay " "$work/out" ||
		fail "a bad uname: $(head -1 "$work/out" | cat -v)"
}

# The clock stops at the recording's end: the last frame is at its last
# event (trace.txt), says end, and none comes after it.
t_replay_end() {
	"$klptop" --replay "$fix/vm-recording" -b -d 1 >"$work/out" 2>&1 ||
		fail "exit $?" || return 1
	python3 - "$work/out" "$cap/trace.txt" "$fix/vm-recording/truth.txt" <<'PY'
import re, sys
heads = [l for l in open(sys.argv[1]) if l.startswith("klptop ")]
t0 = int(re.search(r"^ts (\d+)", open(sys.argv[3]).read(), re.M).group(1))
us = [int(m.group(1)) * 10**6 + int(m.group(2)) for m in
      (re.search(r"\s(\d+)\.(\d{6}): (klp_|module_)", l)
       for l in open(sys.argv[2])) if m]
after = [u for u in us if u * 1000 >= t0]
want = (max(after) - min(after)) / 1e6
last = heads[-1]
m = re.match(r"klptop \+([0-9.]+)s ", last)
if not m or abs(float(m.group(1)) - want) > 0.002 or not last.rstrip().endswith("  end"):
    sys.exit("last frame %r, the recording lasts %.3f s" % (last, want))
if any(l.rstrip().endswith("  end") for l in heads[:-1]):
    sys.exit("end before the last frame")
if any(float(re.match(r"klptop \+([0-9.]+)s", l).group(1)) > want + 0.002 for l in heads):
    sys.exit("a frame after the end: %r" % heads)
PY
}

# -p names a patch the recording has, or it is the live error's shape:
# one line, exit 2, before any frame.
t_replay_nosuch() {
	expect_error 2 "no livepatch named 'NOSUCH'" "$klptop" --replay \
		"$fix/vm-recording" -b -p NOSUCH || return 1
	# a trace.dat too (its warning of no exits comes first)
	"$klptop" --replay "$fix/vm-recording.dat" --json -p NOSUCH \
		>"$work/out" 2>"$work/err"
	[ $? = 2 ] && [ ! -s "$work/out" ] &&
		tail -1 "$work/err" | grep -q "no livepatch named 'NOSUCH'" ||
		fail "trace.dat -p NOSUCH: $(cat "$work/err")" || return 1
	"$klptop" --replay "$fix/vm-recording" -b -p klpt_lp_sleep -d 0.5 \
		>"$work/out" 2>"$work/err" || fail "exit $?: $(cat "$work/err")" || return 1
	# the frames start at the start all the same (the check rewound)
	head -1 "$work/out" | grep -q "^klptop +0.000s " &&
	grep -q "^klpt_lp_sleep " "$work/out" || fail "frames: $(head -5 "$work/out")"
}

# --patch-details is for -b and --json: the screen has Enter for a page,
# so the flag there is a conflict (one line, exit 2), not ignored.
t_details_screen_flag() {
	expect_error 2 "--patch-details is for -b and --json frames" \
		"$klptop" --replay "$fix/vm-recording" --patch-details
}

more_tests+=(details_json details_batch details_live replay_kernel replay_end
	replay_nosuch details_screen_flag)

# ------------------------------------------------------- on a terminal

# pane: the screen as text
pane() {
	tmx capture-pane -p -t top
}

# header_at SECONDS WORD: the header's replay clock reads +SECONDS WORD
# (paused, end).
header_at() {
	pane | head -1 | grep -q "+$1s $2 "
}

# The times a replay's screen must show, from the kernel's own text of
# the recording (trace.txt, rounded to the us as the kernel prints) and
# its start-up snapshot's time: the first event after it, the init of
# the patch, its passes, the last event.  Printed as "name seconds"
# from the first event (the screen's clock), to 3 decimals.
replay_times() {
	python3 - "$cap/trace.txt" "$fix/vm-recording/truth.txt" <<'PY'
import re, sys
t0 = int(re.search(r"^ts (\d+)", open(sys.argv[2]).read(), re.M).group(1))
ev = []
for l in open(sys.argv[1]):
    m = re.search(r"\s(\d+)\.(\d{6}): ((?:klp|module)_\w+): (.*)$", l)
    if m:
        us = int(m.group(1)) * 10**6 + int(m.group(2))
        if us * 1000 >= t0:
            ev.append((us, m.group(3), m.group(4)))
first = ev[0][0]
rel = lambda us: "%.3f" % ((us - first) / 1e6)
print("end", rel(ev[-1][0]))
inits = [e for e in ev if e[1] == "klp_transition_init"]
print("init", rel(inits[0][0]))
print("init2", rel(inits[1][0]))
for i, e in enumerate(x for x in ev if x[1] == "klp_transition_pass"):
    print("pass%d" % i, rel(e[0]), re.search(r"pass=(\d+)", e[2]).group(1))
PY
}

# The patch page and the replay's navigation at a terminal's size: the
# clock stops at the end and says so, Home/End/g/[ ]/{ } go where the
# recording's own times say, Enter on a patch opens its page, Esc closes
# it, and the old recording's kernel is unknown.
screen_nav() {	# COLS ROWS
	local cols=$1 rows=$2 t end init init2 p1 n1
	t=$(replay_times) || fail "fixture times" || return 1
	end=$(echo "$t" | awk '$1 == "end" {print $2}')
	init=$(echo "$t" | awk '$1 == "init" {print $2}')
	init2=$(echo "$t" | awk '$1 == "init2" {print $2}')
	p1=$(echo "$t" | awk '$1 == "pass1" {print $2}')
	n1=$(echo "$t" | awk '$1 == "pass1" {print $3}')
	start_screen "$cols" "$rows" --replay "$fix/vm-recording" --speed 0
	loop_until 10 header_at 0.000 paused || fail "$cols x $rows: no screen: $(pane)" || return 1
	pane | head -1 | grep -q "klptop  unknown kernel  replay of" ||
		fail "$cols x $rows: kernel: $(pane | head -1)" || return 1
	# g TIME before any event is shown: TIME after the first event
	# (it went to TIME after the clock's zero, before everything)
	tmx send-keys -t top g
	tmx send-keys -t top "$p1" Enter
	loop_until 10 header_at "$p1" paused || fail "g $p1 at the start: $(pane | head -1)" || return 1
	tmx send-keys -t top Home
	loop_until 10 header_at 0.000 paused || fail "Home: $(pane | head -1)" || return 1
	# } the first transition: the init, pre-patch
	tmx send-keys -t top '}'
	loop_until 5 header_at "$init" paused || fail "} went to $(pane | head -1), init at $init" || return 1
	pane | grep -q "^klpt_lp_sleep .* pre-patch " || fail "not pre-patch: $(pane)" || return 1
	# ] ] the second pass (pass1), [ back to the first
	tmx send-keys -t top ']'
	tmx send-keys -t top ']'
	loop_until 5 header_at "$p1" paused || fail "] ] went to $(pane | head -1), pass #$n1 at $p1" || return 1
	pane | grep -q "^klpt_lp_sleep  *1 patching  *$n1 " || fail "pass $n1: $(pane)" || return 1
	tmx send-keys -t top '['
	loop_until 5 eval 'pane | grep -q "^klpt_lp_sleep  *1 patching  *0 "' ||
		fail "[ : $(pane)" || return 1
	# Enter: the page of the selected patch, its steps so far
	tmx send-keys -t top Enter
	loop_until 5 eval 'pane | head -1 | grep -q "^ patch klpt_lp_sleep  (Esc"' ||
		fail "no page: $(pane)" || return 1
	pane | grep -q "^  step $init[0-9]* init enable: every task set unpatched" &&
		pane | grep -q "^  srcversion: ? (a replay" &&
		pane | grep -q "^  blocked by: 1 tasks" ||
		fail "$cols x $rows page: $(pane)" || return 1
	tmx send-keys -t top Escape
	loop_until 5 eval 'pane | grep -q "F10Quit"' || fail "page did not close" || return 1
	# g 'end': the clock stops at the last event and says end
	tmx send-keys -t top g
	tmx send-keys -t top e n d Enter
	loop_until 10 header_at "$end" end || fail "g end: $(pane | head -1), end at $end" || return 1
	pane | grep -q "no livepatch loaded" || fail "end: $(pane)" || return 1
	# Home: the start again (the snapshot: no patch); End: the end
	tmx send-keys -t top Home
	loop_until 10 header_at 0.000 paused || fail "Home: $(pane | head -1)" || return 1
	pane | grep -q "no livepatch loaded" || fail "start: $(pane)" || return 1
	tmx send-keys -t top End
	loop_until 10 header_at "$end" end || fail "End: $(pane | head -1)" || return 1
	# { from the end: the last transition's beginning (the disable)
	tmx send-keys -t top '{' '{'
	loop_until 5 header_at "$init2" paused || fail "{ {: $(pane | head -1), init2 at $init2" || return 1
	tmx send-keys -t top q
	loop_until 10 exited || fail "q did not quit" || return 1
	[ "$(cat "$work/rc")" = 0 ] && [ ! -s "$work/err" ] ||
		fail "exit $(cat "$work/rc"): $(cat "$work/err")" || return 1
	terminal_sane
}

t_screen_details() {
	screen_nav 80 24 && screen_nav 120 40 && screen_nav 200 50
}

more_tests+=(screen_details)

# gen_recording DIR [-r|-s] ARGS...: a synthetic recording of
# bench/src/gen.c (klptb_gen [-r|-s] FORMATS DIR ARGS, the fixture's
# formats) in DIR.
gen_recording() {
	local dir=$1 s mode=()
	shift
	case ${1:-} in -*) mode=("$1"); shift ;; esac
	make -s -C "$top/bench" "$top/build/bench/klptb_gen" >/dev/null ||
		fail "cannot build klptb_gen" || return 1
	rm -rf "$dir"
	mkdir -p "$dir/per_cpu"
	cp -r "$fix/formats/events" "$dir/"
	for s in "$dir"/events/*/; do echo 0 >"$s/enable"; done
	"$top/build/bench/klptb_gen" "${mode[@]}" "$fix/formats" "$dir" "$@" \
		>"$dir.gen" || fail "klptb_gen ${mode[*]} $*: $(cat "$dir.gen")"
}

# An atomic replace in a replay (review #4): klpb_a and klpb_b enabled,
# then the replace klpb_r; their frees come with no transition of their
# own (6.1 klp_free_replaced_patches_async()): each page says replaced
# by klpb_r, and klpb_r's that it is a replace, in -b and JSON.
t_details_replace() {
	local rec=$work/rec-replace
	gen_recording "$rec" -r || return 1
	"$klptop" --replay "$rec" -b --patch-details -d 10 >"$work/frames.txt" \
		2>"$work/err" || fail "exit $?: $(cat "$work/err")" || return 1
	awk '/^klptop /{ f = "" } /^klpb_/{ p = $1 } /^ +(replace|replaced by):/ { print p ": " $0 }' \
		"$work/frames.txt" | tail -4 >"$work/rep"
	grep -qx "klpb_a:     replaced by: klpb_r" "$work/rep" &&
	grep -qx "klpb_b:     replaced by: klpb_r" "$work/rep" &&
	grep -qx "klpb_r:     replace: yes (seen replacing klpb_b)" "$work/rep" ||
		fail "-b: $(cat "$work/rep")" || return 1
	"$klptop" --replay "$rec" --json --patch-details -d 10 \
		>"$work/frames.json" 2>"$work/err" || fail "json exit $?" || return 1
	tail -n 1 "$work/frames.json" | python3 -c '
import json, sys
f = json.load(sys.stdin)
d = {p["name"]: p["details"] for p in f["patches"]}
want = {"klpb_a": (True, "klpb_r", None), "klpb_b": (True, "klpb_r", None),
        "klpb_r": (False, None, True)}
got = {n: (d[n]["replaced"], d[n]["replaced_by"], d[n]["replace"]) for n in d}
sys.exit(0 if got == want else "JSON %s, want %s" % (got, want))'
}

more_tests+=(details_replace)
