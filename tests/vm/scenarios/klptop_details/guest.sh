#!/bin/sh
# klptop_details: a patch's page (klptop --patch-details) against the
# kernel's own sysfs, with two patches stacked on one function.
#
# klpt_lp_sleep (LP1) and klpt_lp_vmlinux (LPV) are enabled before the
# watching klptop starts: their pages must say their history began with
# the session (no init time).  A klptop --json --patch-details started
# then (life.json) sees klpt_lp_sleep3 (LP3) enabled on top of LP1 (6.1
# runs the last enabled patch's version: impl 3), its disable held up by
# klpt_sleeper asleep in LP3's function, the release, the completion,
# the free, the release of its kobject, the module's last put and
# unload-ready.  At the stacked point one-shot frames (stacked.json,
# stacked_b.txt) between two snapshots give every page's objects and
# functions (/sys/kernel/livepatch/P/OBJ/FUNC,POS), which patch runs each
# function (impl), srcversion (/sys/module/M/srcversion) and, for LP1
# installed in /lib/modules/KVER/modules.dep, its file's description
# (the judge reads the same .ko with the host's modinfo).
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TG=klpt_target_sleep
LP1=klpt_lp_sleep
LP3=klpt_lp_sleep3
LPV=klpt_lp_vmlinux
TOP=$KLPT_TOP_BIN
S=klptop_details

need_modules klptrace $TG $LP1 $LP3 $LPV || guest_fail "modules missing from the image"
[ -x "$TOP" ] || guest_fail "$TOP not in the image: klptop is not built (make -C tui)"
load_klptrace || guest_fail "load_klptrace failed"
insmod_test $TG || guest_fail "insmod $TG failed"
fact sleeper_pid "$(param $TG pid)"

# LP1 as an installed module is: listed in modules.dep
kver=$(uname -r)
mkdir -p "/lib/modules/$kver/extra" &&
	cp "$KLPT_MODDIR/$LP1.ko" "/lib/modules/$kver/extra/" &&
	echo "extra/$LP1.ko:" >"/lib/modules/$kver/modules.dep" ||
	guest_fail "cannot install $LP1 in /lib/modules/$kver"
cp "$KLPT_MODDIR/$LP1.ko" "$KLPT_MODDIR/$LP3.ko" "$KLPT_OUT/" ||
	guest_fail "cannot copy the modules for the judge"
fact kernel "$kver"

mark "$S: before"
for lp in $LP1 $LPV; do
	insmod_test $lp || guest_fail "insmod $lp failed"
	wait_transition_done $lp || guest_fail "patching transition of $lp did not finish"
done

# the watcher: every 0.3 s, until killed
"$TOP" --json --patch-details -d 0.3 >"$KLPT_OUT/life.json" 2>"$KLPT_OUT/life.err" &
life=$!
loop_until test -s "$KLPT_OUT/life.json" || guest_fail "klptop wrote no frame: $(cat "$KLPT_OUT/life.err")"

mark "$S: enable $LP3"
insmod_test $LP3 || guest_fail "insmod $LP3 failed"
wait_transition_done $LP3 || guest_fail "patching transition of $LP3 did not finish"
sleeper_block || guest_fail "klpt_sleeper never entered klpt_sleep_fn()"
fact impl_stacked "$(param $TG impl)"
for m in $LP1 $LP3 $LPV; do
	if [ -e "/sys/module/$m/srcversion" ]; then
		fact "srcversion_$m" "$(cat "/sys/module/$m/srcversion")"
	else
		fact "srcversion_$m" none
	fi
done
snap stacked
klptop_run stacked --json --patch-details -n 1
klptop_run stacked_b -b --patch-details -n 1
snap stacked_after

mark "$S: disable $LP3"
lp_disable $LP3 || guest_fail "writing 0 to $LP3/enabled failed"
loop_until has_since "$S: disable $LP3" klp_transition_pass 2 ||
	guest_fail "fewer than 2 passes after the disable of $LP3"
snap blocked
mark "$S: release"
set_param $TG block 0 || guest_fail "cannot set block=0"
wait_refcnt $LP3 0 || guest_fail "$LP3's refcnt never reached 0"
loop_until has_since "$S: release" klp_module_unload_ready 1 ||
	guest_fail "no klp_module_unload_ready of $LP3"
# the watcher's frame after it (bounded: frames come every 0.3 s)
loop_until grep -q '"step":"unload-ready"' "$KLPT_OUT/life.json" ||
	guest_fail "klptop never showed $LP3's unload-ready"
kill -INT $life
wait $life
fact life_rc $?
snap ready
rmmod $LP3 || guest_fail "rmmod $LP3 failed"
