#!/bin/sh
# make demo: klptop on a livepatch transition that a sleeping kthread
# blocks.  The operator disables the patch, watches its module become
# unloadable and unloads it, all from klptop; quitting klptop powers the
# VM off.  (The waits on the kernel are bounded polls.)
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

say() {
	printf '\033[1m### %s\033[0m\n' "$*"
}

# Kernel messages would scribble over klptop's screen.
dmesg -n 1
say "loading klptrace.ko (the klp trace events), then klpt_target_sleep:"
say "its kthread klpt_sleeper goes to sleep inside klpt_sleep_fn()"
load_klptrace >/dev/null || guest_fail "klptrace.ko did not load"
start_sleeper >/dev/null || guest_fail "the kthread never entered klpt_sleep_fn"
say "loading the livepatch klpt_lp_sleep, which replaces klpt_sleep_fn():"
say "the sleeper blocks its transition"
insmod_test klpt_lp_sleep || guest_fail "cannot load klpt_lp_sleep"
loop_until has_since "demo: block" klp_transition_pass 1 >/dev/null ||
	guest_fail "no transition pass"
cat <<'TXT'

In klptop:
  - the patch row shows the patching transition, its pass and how many
    tasks switched; the BLOCKERS panel names klpt_sleeper, sleeping in
    klpt_sleep_fn, and for how long;
  - Tab then Enter: the sleeper's details (kernel stack, its events);
  - d then y: disable the patch; the transition reverses and completes,
    UNLOAD goes ENABLED -> TASKS -> NOT FREED -> READY (? lists every
    stage);
  - u: unload the module; ? help; q quits klptop and powers the VM off.

TXT
printf 'Press Enter to start klptop. '
read -r _
if [ -x /klpt/bin/klptop ]; then
	/klpt/bin/klptop
	st=$?
else
	echo "demo: no klptop in the image (make -C tui)" >&2
	st=127
fi
say "klptop exited with status $st; powering off"
# For demo.sh (and its test): klptop's status and, as the kernel sees
# it, whether the livepatch module is still loaded, on the second serial
# port, which demo.sh connects to a file.
loaded=0
module_loaded klpt_lp_sleep && loaded=1
printf 'klptop_status=%s klpt_lp_sleep_loaded=%s\n' "$st" "$loaded" >/dev/ttyS1
poweroff -f
