#!/bin/sh
# force_replace_nosym: force_replace with klptrace.ko loaded without the
# kernel symbol klp_patches (skip=, as on a kernel where kallsyms does not
# have it).  The force of the replace's enable still marks klpt_lp_sleep
# forced (ground truth: rmmod fails, refcnt 1), but klptrace.ko cannot
# walk the list: hooks says so and no klp_patch_forced is made up for it;
# klp_patch_free forced=1 still tells.
#
# The steps are force_replace's (its guest.sh, in the image as
# /klpt/scenarios/force_replace.sh), under this scenario's name.
S=force_replace_nosym KLPT_LOAD_ARGS=skip=klp_patches
export S KLPT_LOAD_ARGS
exec sh /klpt/scenarios/force_replace.sh
